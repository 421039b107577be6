// Functional forms of layers and losses (torch.nn.functional): plain functions of tensors.
#pragma once
#include "tapegrad/core/random.h"
#include "tapegrad/core/tensor.h"

namespace tapegrad::nn {

/// How a loss reduces its per-element (or per-sample) values.
enum class Reduction { Mean, Sum, None };

namespace functional {

/// Inverted dropout: zero with probability p, scale the rest by 1/(1-p); identity unless
/// training.
Tensor dropout(const Tensor& x, double p = 0.5, bool training = true, Generator* gen = nullptr);
/// The same per channel of (N, C, H, W) or (C, H, W): one draw zeroes a whole (H, W) plane.
Tensor dropout2d(const Tensor& x, double p = 0.5, bool training = true, Generator* gen = nullptr);

/// (x - y)^2; mean over all elements.
Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction r = Reduction::Mean);
/// |x - y|; mean over all elements.
Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction r = Reduction::Mean);
/// Cross-entropy from logits (B, C). Targets: int64 class indices (B), or probabilities (B, C)
/// of the logits' dtype. Mean divides by B. Fused and stable: backward is softmax - target.
Tensor cross_entropy(const Tensor& logits, const Tensor& target, Reduction r = Reduction::Mean);
/// Negative log-likelihood of log-probabilities (B, C) at int64 targets (B); mean divides by B.
Tensor nll_loss(const Tensor& log_probs, const Tensor& target, Reduction r = Reduction::Mean);
/// Binary cross-entropy of probabilities; logs clamped to >= -100 as PyTorch does.
Tensor binary_cross_entropy(const Tensor& probs, const Tensor& target,
                            Reduction r = Reduction::Mean);
/// Binary cross-entropy of logits, stable for any logit: max(x, 0) - x y + log(1 + e^-|x|).
Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target,
                                        Reduction r = Reduction::Mean);

}  // namespace functional
}  // namespace tapegrad::nn
