// TransformerEncoderLayer and TransformerEncoder: torch's submodules in torch's order, composed
// of MultiheadAttention, Linear, LayerNorm and Dropout.
#include "tapegrad/nn/transformer.h"

#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/errors.h"
#include "transformer_block.h"

namespace tapegrad::nn {

TransformerEncoderLayer::TransformerEncoderLayer(std::int64_t d_model, std::int64_t nhead,
                                                 const TransformerEncoderLayerOptions& opts,
                                                 Generator* gen)
    : d_model_(d_model), nhead_(nhead), opts_(opts) {
  detail::check_layer_options("TransformerEncoderLayer", opts);
  MultiheadAttentionOptions mo;
  mo.dropout = opts.dropout;
  mo.batch_first = opts.batch_first;
  self_attn_ = register_module("self_attn", MultiheadAttention(d_model, nhead, mo, gen));
  linear1_ = register_module("linear1", Linear(d_model, opts.dim_feedforward, true, gen));
  dropout_ = register_module("dropout", Dropout(opts.dropout));
  linear2_ = register_module("linear2", Linear(opts.dim_feedforward, d_model, true, gen));
  norm1_ = register_module("norm1", LayerNorm({d_model}, opts.layer_norm_eps));
  norm2_ = register_module("norm2", LayerNorm({d_model}, opts.layer_norm_eps));
  dropout1_ = register_module("dropout1", Dropout(opts.dropout));
  dropout2_ = register_module("dropout2", Dropout(opts.dropout));
}

Tensor TransformerEncoderLayer::forward(const Tensor& src) { return forward(src, {}, {}); }

Tensor TransformerEncoderLayer::forward(const Tensor& src, const Tensor& src_mask,
                                        const Tensor& src_key_padding_mask) {
  AttentionCall call;
  call.attn_mask = src_mask;
  call.key_padding_mask = src_key_padding_mask;
  call.need_weights = false;
  auto attend = [&](const Tensor& x) {
    return (*dropout1_)(self_attn_->forward(x, x, x, call).output);
  };
  auto ff = [&](const Tensor& x) {
    return (*dropout2_)(detail::feed_forward(*linear1_, *dropout_, *linear2_, opts_.activation, x));
  };
  Tensor x = src;
  if (opts_.norm_first) {
    x = x + attend((*norm1_)(x));
    x = x + ff((*norm2_)(x));
  } else {
    x = (*norm1_)(x + attend(x));
    x = (*norm2_)(x + ff(x));
  }
  return x;
}

std::shared_ptr<TransformerEncoderLayer> TransformerEncoderLayer::copy() const {
  Generator unused(0);  // the copy's own draws are overwritten: keep the global stream as it is
  auto c = std::make_shared<TransformerEncoderLayer>(d_model_, nhead_, opts_, &unused);
  c->to(self_attn_->in_proj_weight().dtype());
  c->load_state_dict(state_dict());
  c->train(is_training());
  return c;
}

TransformerEncoder::TransformerEncoder(const TransformerEncoderLayer& layer,
                                       std::int64_t num_layers, std::shared_ptr<Module> norm) {
  if (num_layers < 1)
    throw ValueError(msg("TransformerEncoder: num_layers must be positive: got ", num_layers));
  layers_ = register_module("layers", ModuleList());
  for (std::int64_t i = 0; i < num_layers; ++i) layers_->append(layer.copy());
  if (norm) norm_ = register_module("norm", std::move(norm));
}

Tensor TransformerEncoder::forward(const Tensor& src) { return forward(src, {}, {}); }

Tensor TransformerEncoder::forward(const Tensor& src, const Tensor& mask,
                                   const Tensor& src_key_padding_mask) {
  Tensor x = src;
  for (std::size_t i = 0; i < layers_->size(); ++i)
    x = static_cast<TransformerEncoderLayer&>((*layers_)[i]).forward(x, mask, src_key_padding_mask);
  return norm_ ? (*norm_)(x) : x;
}

}  // namespace tapegrad::nn
