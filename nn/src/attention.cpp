// MultiheadAttention: torch's projections and head layout around core's fused attention
// (multi_head_attention, which reads the heads where the projections leave them); the masks
// become one additive float mask first, as torch's multi_head_attention_forward merges them.
#include "tapegrad/nn/attention.h"

#include <cmath>
#include <limits>

#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/errors.h"
#include "tapegrad/core/ops.h"
#include "tapegrad/core/ops/attention.h"
#include "tapegrad/nn/init.h"

namespace tapegrad::nn {

namespace {

constexpr const char* kWhat = "MultiheadAttention";

// A mask as an additive float one of dtype d: int64 (boolean-like) becomes -inf where nonzero.
Tensor additive(const Tensor& mask, Dtype d) {
  if (mask.dtype() == kInt64)
    return masked_fill(zeros(mask.shape(), {.dtype = d}), mask,
                       -std::numeric_limits<double>::infinity());
  return mask.dtype() == d ? mask : mask.to(d);
}

}  // namespace

MultiheadAttention::MultiheadAttention(std::int64_t embed_dim, std::int64_t num_heads,
                                       const MultiheadAttentionOptions& opts, Generator* gen)
    : embed_dim_(embed_dim), num_heads_(num_heads), opts_(opts) {
  if (embed_dim < 1 || num_heads < 1 || embed_dim % num_heads != 0)
    throw ValueError(msg(kWhat, ": embed_dim (", embed_dim, ") must be a positive multiple of ",
                         "num_heads (", num_heads, ")"));
  if (!(opts.dropout >= 0 && opts.dropout <= 1))
    throw ValueError(msg(kWhat, ": dropout must be in [0, 1]: got ", opts.dropout));
  Tensor w = empty({3 * embed_dim, embed_dim});
  init::xavier_uniform_(w, 1, gen);
  in_proj_weight_ = register_parameter("in_proj_weight", w);
  if (opts.bias) in_proj_bias_ = register_parameter("in_proj_bias", zeros({3 * embed_dim}));
  out_proj_ = register_module("out_proj", Linear(embed_dim, embed_dim, opts.bias, gen));
  if (opts.bias) init::zeros_(out_proj_->bias());
}

Tensor MultiheadAttention::forward(const Tensor& x) {
  AttentionCall call;
  call.need_weights = false;
  return forward(x, x, x, call).output;
}

AttentionOutput MultiheadAttention::forward(const Tensor& query, const Tensor& key,
                                            const Tensor& value, const AttentionCall& call) {
  const std::int64_t E = embed_dim_, H = num_heads_;
  if (!query.defined() || !key.defined() || !value.defined())
    throw ValueError(msg(kWhat, ": query, key and value must be defined"));
  const bool batched = query.dim() == 3;
  if ((query.dim() != 2 && query.dim() != 3) || key.dim() != query.dim() ||
      value.dim() != query.dim() || query.size(-1) != E || key.size(-1) != E || value.size(-1) != E)
    throw ShapeError(msg(kWhat, ": query, key and value must be ",
                         opts_.batch_first ? "(N, L, " : "(L, N, ", E, "), or (L, ", E,
                         ") unbatched, all of one rank: got ", shape_str(query.shape()), ", ",
                         shape_str(key.shape()), ", ", shape_str(value.shape())));
  // Unbatched input is one batch entry; batch_first stays as it is: the kernel reads the heads
  // where the projections leave them, in either layout.
  const bool bf = batched && opts_.batch_first;
  auto batch_of = [&](const Tensor& t) { return batched ? t : t.unsqueeze(1); };
  const bool self = query.is_same(key) && key.is_same(value);
  const Tensor q0 = batch_of(query), k0 = self ? q0 : batch_of(key),
               v0 = self ? q0 : batch_of(value);
  const int seq = bf ? 1 : 0, bat = bf ? 0 : 1;
  const std::int64_t L = q0.size(seq), N = q0.size(bat), S = k0.size(seq);
  if (k0.size(bat) != N || v0.size(bat) != N || v0.size(seq) != S)
    throw ShapeError(msg(kWhat, ": key and value must hold the query's ", N,
                         " batch elements and one sequence length: got ", shape_str(key.shape()),
                         " and ", shape_str(value.shape())));
  // Each projection through its block of in_proj_weight: splitting one product's output
  // instead (torch's packed self-attention path, the same numbers) copies the whole output
  // three times, forward and backward.
  auto part = [&](const Tensor& x, std::int64_t i) {
    return linear(x, narrow(in_proj_weight_, 0, i * E, E),
                  in_proj_bias_.defined() ? narrow(in_proj_bias_, 0, i * E, E) : Tensor());
  };
  const Tensor q = part(q0, 0), k = part(k0, 1), v = part(v0, 2);

  const Dtype d = q.dtype();
  Tensor mask;  // additive, (L, S) or (N, H, L, S)
  if (call.attn_mask.defined()) {
    const Shape& ms = call.attn_mask.shape();
    if (ms != Shape{L, S} && ms != Shape{N * H, L, S})
      throw ShapeError(msg(kWhat, ": attn_mask must be ", shape_str(Shape{L, S}), " or ",
                           shape_str(Shape{N * H, L, S}), ": got ", shape_str(ms)));
    mask = additive(call.attn_mask, d);
    if (mask.dim() == 3) mask = mask.reshape({N, H, L, S});
  }
  if (call.key_padding_mask.defined()) {
    const Shape want = batched ? Shape{N, S} : Shape{S};
    if (call.key_padding_mask.shape() != want)
      throw ShapeError(msg(kWhat, ": key_padding_mask must be ", shape_str(want), ": got ",
                           shape_str(call.key_padding_mask.shape())));
    const Tensor pad = additive(call.key_padding_mask, d).reshape({N, 1, 1, S});
    mask = broadcast_to(mask.defined() ? mask + pad : pad, {N, H, L, S});
  }
  AttentionOptions ao;
  ao.attn_mask = mask;
  ao.is_causal = call.is_causal;
  ao.dropout_p = is_training() ? opts_.dropout : 0;
  ao.need_weights = call.need_weights;
  const AttentionResult a = multi_head_attention(q, k, v, {.num_heads = H, .batch_first = bf}, ao);
  const Tensor out = (*out_proj_)(a.output);
  AttentionOutput r;
  r.output = batched ? out : out.squeeze(1);
  if (call.need_weights) {
    Tensor w = call.average_attn_weights ? mean(a.weights, 1) : a.weights;
    r.weights = batched ? w : w.squeeze(0);
  }
  return r;
}

std::string MultiheadAttention::extra_repr() const {
  std::string r = msg("embed_dim=", embed_dim_, ", num_heads=", num_heads_);
  if (opts_.dropout != 0) r += msg(", dropout=", opts_.dropout);
  if (!opts_.bias) r += ", bias=False";
  if (opts_.batch_first) r += ", batch_first=True";
  return r;
}

}  // namespace tapegrad::nn
