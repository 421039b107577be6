// Embedding layer: torch's initialisation (normal, padding row zero) and from_pretrained.
#include "tapegrad/nn/embedding.h"

#include <algorithm>

#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/errors.h"
#include "tapegrad/core/ops.h"
#include "tapegrad/nn/init.h"

namespace tapegrad::nn {

namespace {
EmbeddingOptions with_padding(std::optional<std::int64_t> padding_idx) {
  EmbeddingOptions o;  // assigned, not designated: the other members keep their defaults
  o.padding_idx = padding_idx;
  return o;
}

std::optional<std::int64_t> normalized_padding(std::optional<std::int64_t> p, std::int64_t n) {
  if (!p) return p;
  if (*p < -n || *p >= n)
    throw ValueError(msg("Embedding: padding_idx ", *p, " is out of range for ", n, " embeddings"));
  return *p < 0 ? *p + n : *p;
}
}  // namespace

Embedding::Embedding(std::int64_t num_embeddings, std::int64_t embedding_dim,
                     std::optional<std::int64_t> padding_idx, Generator* gen)
    : Embedding(num_embeddings, embedding_dim, with_padding(padding_idx), gen) {}

Embedding::Embedding(std::int64_t num_embeddings, std::int64_t embedding_dim,
                     const EmbeddingOptions& opts, Generator* gen)
    : num_(num_embeddings), dim_(embedding_dim), opts_(opts) {
  if (num_embeddings < 1 || embedding_dim < 1)
    throw ValueError(msg("Embedding: num_embeddings and embedding_dim must be positive: got ",
                         num_embeddings, ", ", embedding_dim));
  opts_.padding_idx = normalized_padding(opts.padding_idx, num_);
  Tensor w = empty({num_, dim_});
  init::normal_(w, 0, 1, gen);
  if (opts_.padding_idx) std::fill_n(w.data<float>() + *opts_.padding_idx * dim_, dim_, 0.0f);
  weight_ = register_parameter("weight", w);
}

Embedding::Embedding(const Tensor& weight, bool requires_grad, const EmbeddingOptions& opts)
    : num_(weight.size(0)), dim_(weight.size(1)), opts_(opts) {
  opts_.padding_idx = normalized_padding(opts.padding_idx, num_);
  weight_ = register_parameter("weight", weight.detach().clone(), requires_grad);
}

Embedding Embedding::from_pretrained(const Tensor& embeddings, bool freeze,
                                     std::optional<std::int64_t> padding_idx) {
  return from_pretrained(embeddings, freeze, with_padding(padding_idx));
}

Embedding Embedding::from_pretrained(const Tensor& embeddings, bool freeze,
                                     const EmbeddingOptions& opts) {
  if (!embeddings.defined() || embeddings.dim() != 2)
    throw ShapeError(msg("Embedding::from_pretrained: embeddings must be 2-D: got ",
                         embeddings.defined() ? shape_str(embeddings.shape()) : "undefined"));
  return Embedding(embeddings, !freeze, opts);
}

Tensor Embedding::forward(const Tensor& indices) {
  return embedding(indices, weight_, opts_.padding_idx, opts_.max_norm, opts_.norm_type,
                   opts_.scale_grad_by_freq);
}

std::string Embedding::extra_repr() const {
  std::string r = msg(num_, ", ", dim_);
  if (opts_.padding_idx) r += msg(", padding_idx=", *opts_.padding_idx);
  if (opts_.max_norm) r += msg(", max_norm=", *opts_.max_norm);
  if (opts_.norm_type != 2) r += msg(", norm_type=", opts_.norm_type);
  if (opts_.scale_grad_by_freq) r += ", scale_grad_by_freq=True";
  return r;
}

}  // namespace tapegrad::nn
