// The Transformer's decoder, laid out as PyTorch's nn.TransformerDecoderLayer and
// nn.TransformerDecoder (self_attn, multihead_attn, linear1, linear2, norm1-3; layers.{i},
// norm), so a torch state dict loads unchanged.
#pragma once
#include <cstdint>
#include <memory>

#include "tapegrad/core/random.h"
#include "tapegrad/nn/attention.h"
#include "tapegrad/nn/containers.h"
#include "tapegrad/nn/dropout.h"
#include "tapegrad/nn/linear.h"
#include "tapegrad/nn/module.h"
#include "tapegrad/nn/normalization.h"
#include "tapegrad/nn/transformer.h"

namespace tapegrad::nn {

/// torch's constructor arguments of TransformerDecoderLayer beyond d_model and nhead: the
/// encoder layer's, with layer_norm_eps for norm3 too.
using TransformerDecoderLayerOptions = TransformerEncoderLayerOptions;

/// The masks of a decoder call, as MultiheadAttention takes them (int64 boolean-like or float
/// additive; each undefined for none): torch's forward arguments by name.
struct TransformerDecoderMasks {
  Tensor tgt_mask = {};              ///< the self-attention's: (T, T) or (N * nhead, T, T)
  Tensor memory_mask = {};           ///< the attention over memory's: (T, S) or (N * nhead, T, S)
  Tensor tgt_key_padding_mask = {};  ///< (N, T): target positions every query ignores
  Tensor memory_key_padding_mask = {};  ///< (N, S): memory positions every query ignores
};

/// Self-attention, attention over the encoder's output (memory), then a feed-forward block,
/// each with a residual connection and a LayerNorm: post-norm x = norm1(x + sa(x));
/// x = norm2(x + mha(x, memory)); x = norm3(x + ff(x)), or with norm_first
/// x = x + sa(norm1(x)); x = x + mha(norm2(x), memory); x = x + ff(norm3(x)).
class TransformerDecoderLayer : public Module {
 public:
  /// A layer of d_model features in nhead heads (see TransformerEncoderLayerOptions).
  TransformerDecoderLayer(std::int64_t d_model, std::int64_t nhead,
                          const TransformerDecoderLayerOptions& opts = {},
                          Generator* gen = nullptr);
  /// A decoder layer needs the memory: Module's one-input form throws ValueError.
  Tensor forward(const Tensor& tgt) override;
  /// The layer over tgt (T, N, E), (N, T, E) with batch_first, or (T, E), attending to memory
  /// (S, N, E), (N, S, E) or (S, E).
  Tensor forward(const Tensor& tgt, const Tensor& memory,
                 const TransformerDecoderMasks& masks = {});
  using Module::operator();
  /// forward(tgt, memory, masks).
  Tensor operator()(const Tensor& tgt, const Tensor& memory,
                    const TransformerDecoderMasks& masks = {}) {
    return forward(tgt, memory, masks);
  }
  std::string name() const override { return "TransformerDecoderLayer"; }
  /// A new layer with this one's configuration and a copy of its parameters (torch's deepcopy,
  /// which TransformerDecoder makes of its layer).
  std::shared_ptr<TransformerDecoderLayer> copy() const;

 private:
  std::int64_t d_model_, nhead_;
  TransformerDecoderLayerOptions opts_;
  std::shared_ptr<MultiheadAttention> self_attn_, multihead_attn_;
  std::shared_ptr<Linear> linear1_, linear2_;
  std::shared_ptr<LayerNorm> norm1_, norm2_, norm3_;
  // ff's inner, then each block's output: self-attention's, memory attention's, ff's
  std::shared_ptr<Dropout> dropout_, dropout1_, dropout2_, dropout3_;
};

/// num_layers copies of a decoder layer, one after another over the same memory, then an
/// optional final norm (torch's TransformerDecoder(decoder_layer, num_layers, norm)). Every
/// copy starts from the given layer's parameters, as torch's deepcopy does.
class TransformerDecoder : public Module {
 public:
  /// The stack (num_layers positive, else ValueError).
  TransformerDecoder(const TransformerDecoderLayer& layer, std::int64_t num_layers,
                     std::shared_ptr<Module> norm = nullptr);
  /// A decoder needs the memory: Module's one-input form throws ValueError.
  Tensor forward(const Tensor& tgt) override;
  /// The stack with the memory and masks every layer takes.
  Tensor forward(const Tensor& tgt, const Tensor& memory,
                 const TransformerDecoderMasks& masks = {});
  using Module::operator();
  /// forward(tgt, memory, masks).
  Tensor operator()(const Tensor& tgt, const Tensor& memory,
                    const TransformerDecoderMasks& masks = {}) {
    return forward(tgt, memory, masks);
  }
  std::string name() const override { return "TransformerDecoder"; }

 private:
  std::shared_ptr<ModuleList> layers_;
  std::shared_ptr<Module> norm_;
};

}  // namespace tapegrad::nn
