// TransformerDecoderLayer and TransformerDecoder: torch's submodules in torch's order, composed
// of MultiheadAttention, Linear, LayerNorm and Dropout.
#include "tapegrad/nn/transformer_decoder.h"

#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/errors.h"
#include "transformer_block.h"

namespace tapegrad::nn {

TransformerDecoderLayer::TransformerDecoderLayer(std::int64_t d_model, std::int64_t nhead,
                                                 const TransformerDecoderLayerOptions& opts,
                                                 Generator* gen)
    : d_model_(d_model), nhead_(nhead), opts_(opts) {
  detail::check_layer_options("TransformerDecoderLayer", opts);
  MultiheadAttentionOptions mo;
  mo.dropout = opts.dropout;
  mo.batch_first = opts.batch_first;
  self_attn_ = register_module("self_attn", MultiheadAttention(d_model, nhead, mo, gen));
  multihead_attn_ = register_module("multihead_attn", MultiheadAttention(d_model, nhead, mo, gen));
  linear1_ = register_module("linear1", Linear(d_model, opts.dim_feedforward, true, gen));
  dropout_ = register_module("dropout", Dropout(opts.dropout));
  linear2_ = register_module("linear2", Linear(opts.dim_feedforward, d_model, true, gen));
  norm1_ = register_module("norm1", LayerNorm({d_model}, opts.layer_norm_eps));
  norm2_ = register_module("norm2", LayerNorm({d_model}, opts.layer_norm_eps));
  norm3_ = register_module("norm3", LayerNorm({d_model}, opts.layer_norm_eps));
  dropout1_ = register_module("dropout1", Dropout(opts.dropout));
  dropout2_ = register_module("dropout2", Dropout(opts.dropout));
  dropout3_ = register_module("dropout3", Dropout(opts.dropout));
}

Tensor TransformerDecoderLayer::forward(const Tensor&) {
  throw ValueError("TransformerDecoderLayer: needs the memory: call forward(tgt, memory, masks)");
}

Tensor TransformerDecoderLayer::forward(const Tensor& tgt, const Tensor& memory,
                                        const TransformerDecoderMasks& masks) {
  AttentionCall self_call;
  self_call.attn_mask = masks.tgt_mask;
  self_call.key_padding_mask = masks.tgt_key_padding_mask;
  self_call.need_weights = false;
  AttentionCall memory_call;
  memory_call.attn_mask = masks.memory_mask;
  memory_call.key_padding_mask = masks.memory_key_padding_mask;
  memory_call.need_weights = false;
  auto self_attend = [&](const Tensor& x) {
    return (*dropout1_)(self_attn_->forward(x, x, x, self_call).output);
  };
  auto attend_memory = [&](const Tensor& x) {
    return (*dropout2_)(multihead_attn_->forward(x, memory, memory, memory_call).output);
  };
  auto ff = [&](const Tensor& x) {
    return (*dropout3_)(detail::feed_forward(*linear1_, *dropout_, *linear2_, opts_.activation, x));
  };
  Tensor x = tgt;
  if (opts_.norm_first) {
    x = x + self_attend((*norm1_)(x));
    x = x + attend_memory((*norm2_)(x));
    x = x + ff((*norm3_)(x));
  } else {
    x = (*norm1_)(x + self_attend(x));
    x = (*norm2_)(x + attend_memory(x));
    x = (*norm3_)(x + ff(x));
  }
  return x;
}

std::shared_ptr<TransformerDecoderLayer> TransformerDecoderLayer::copy() const {
  Generator unused(0);  // the copy's own draws are overwritten: keep the global stream as it is
  auto c = std::make_shared<TransformerDecoderLayer>(d_model_, nhead_, opts_, &unused);
  c->to(self_attn_->in_proj_weight().dtype());
  c->load_state_dict(state_dict());
  c->train(is_training());
  return c;
}

TransformerDecoder::TransformerDecoder(const TransformerDecoderLayer& layer,
                                       std::int64_t num_layers, std::shared_ptr<Module> norm) {
  if (num_layers < 1)
    throw ValueError(msg("TransformerDecoder: num_layers must be positive: got ", num_layers));
  layers_ = register_module("layers", ModuleList());
  for (std::int64_t i = 0; i < num_layers; ++i) layers_->append(layer.copy());
  if (norm) norm_ = register_module("norm", std::move(norm));
}

Tensor TransformerDecoder::forward(const Tensor&) {
  throw ValueError("TransformerDecoder: needs the memory: call forward(tgt, memory, masks)");
}

Tensor TransformerDecoder::forward(const Tensor& tgt, const Tensor& memory,
                                   const TransformerDecoderMasks& masks) {
  Tensor x = tgt;
  for (std::size_t i = 0; i < layers_->size(); ++i)
    x = static_cast<TransformerDecoderLayer&>((*layers_)[i]).forward(x, memory, masks);
  return norm_ ? (*norm_)(x) : x;
}

}  // namespace tapegrad::nn
