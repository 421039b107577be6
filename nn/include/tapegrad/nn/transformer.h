// The Transformer's encoder, laid out as PyTorch's nn.TransformerEncoderLayer and
// nn.TransformerEncoder (self_attn, linear1, linear2, norm1, norm2; layers.{i}, norm), so a torch
// state dict loads unchanged.
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

namespace tapegrad::nn {

/// The feed-forward block's activation (torch's activation="relu" or "gelu").
enum class TransformerActivation { ReLU, GELU };

/// torch's constructor arguments of TransformerEncoderLayer beyond d_model and nhead.
struct TransformerEncoderLayerOptions {
  std::int64_t dim_feedforward = 2048;  ///< the feed-forward block's hidden width
  double dropout = 0.1;  ///< on the attention weights, in the feed-forward block and on each
                         ///< block's output, in training
  TransformerActivation activation = TransformerActivation::ReLU;  ///< the feed-forward's
  double layer_norm_eps = 1e-5;                                    ///< norm1's and norm2's eps
  bool batch_first = false;  ///< (N, S, E) instead of (S, N, E)
  bool norm_first = false;   ///< pre-norm (x + f(norm(x))) instead of post-norm
};

/// Self-attention then a feed-forward block, each with a residual connection and a LayerNorm:
/// post-norm x = norm1(x + sa(x)); x = norm2(x + ff(x)), or with norm_first
/// x = x + sa(norm1(x)); x = x + ff(norm2(x)); ff(x) = linear2(dropout(act(linear1(x)))).
class TransformerEncoderLayer : public Module {
 public:
  /// A layer of d_model features in nhead heads (see TransformerEncoderLayerOptions).
  TransformerEncoderLayer(std::int64_t d_model, std::int64_t nhead,
                          const TransformerEncoderLayerOptions& opts = {},
                          Generator* gen = nullptr);
  /// The layer over src (S, N, E), (N, S, E) with batch_first, or (S, E), without masks.
  Tensor forward(const Tensor& src) override;
  /// The same with src_mask ((S, S) or (N * nhead, S, S)) and src_key_padding_mask ((N, S)), as
  /// MultiheadAttention takes them (int64 boolean-like or float additive; either undefined).
  Tensor forward(const Tensor& src, const Tensor& src_mask,
                 const Tensor& src_key_padding_mask = {});
  using Module::operator();
  /// forward(src, src_mask, src_key_padding_mask).
  Tensor operator()(const Tensor& src, const Tensor& src_mask,
                    const Tensor& src_key_padding_mask = {}) {
    return forward(src, src_mask, src_key_padding_mask);
  }
  std::string name() const override { return "TransformerEncoderLayer"; }
  /// A new layer with this one's configuration and a copy of its parameters (torch's deepcopy,
  /// which TransformerEncoder makes of its layer).
  std::shared_ptr<TransformerEncoderLayer> copy() const;

 private:
  std::int64_t d_model_, nhead_;
  TransformerEncoderLayerOptions opts_;
  std::shared_ptr<MultiheadAttention> self_attn_;
  std::shared_ptr<Linear> linear1_, linear2_;
  std::shared_ptr<LayerNorm> norm1_, norm2_;
  std::shared_ptr<Dropout> dropout_, dropout1_, dropout2_;  // ff's inner, attention's, ff's
};

/// num_layers copies of a layer, one after another, then an optional final norm (any module,
/// registered as "norm"; torch's TransformerEncoder(encoder_layer, num_layers, norm)). Every
/// copy starts from the given layer's parameters, as torch's deepcopy does.
class TransformerEncoder : public Module {
 public:
  /// The stack (num_layers positive, else ValueError).
  TransformerEncoder(const TransformerEncoderLayer& layer, std::int64_t num_layers,
                     std::shared_ptr<Module> norm = nullptr);
  /// The stack over src, without masks.
  Tensor forward(const Tensor& src) override;
  /// The stack with the masks every layer takes (see TransformerEncoderLayer::forward).
  Tensor forward(const Tensor& src, const Tensor& mask, const Tensor& src_key_padding_mask = {});
  using Module::operator();
  /// forward(src, mask, src_key_padding_mask).
  Tensor operator()(const Tensor& src, const Tensor& mask,
                    const Tensor& src_key_padding_mask = {}) {
    return forward(src, mask, src_key_padding_mask);
  }
  std::string name() const override { return "TransformerEncoder"; }

 private:
  std::shared_ptr<ModuleList> layers_;
  std::shared_ptr<Module> norm_;
};

}  // namespace tapegrad::nn
