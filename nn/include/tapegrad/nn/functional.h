// Functional forms of layers and losses (torch.nn.functional): plain functions of tensors.
#pragma once
#include "tapegrad/core/random.h"
#include "tapegrad/core/tensor.h"

namespace tapegrad::nn {

/// How a loss reduces its per-element (or per-sample) values.
enum class Reduction {
  Mean,  ///< the mean over the elements (or, for class-index targets, over the weighted targets)
  Sum,   ///< the sum
  None,  ///< no reduction: the per-element (or per-sample) values
  BatchMean,  ///< the sum divided by the batch size (dim 0): kl_div's only, as torch's "batchmean"
};

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
/// Options of cross_entropy, as torch's.
struct CrossEntropyOptions {
  Reduction reduction = Reduction::Mean;  ///< how the per-sample losses are reduced
  Tensor weight;                     ///< per-class weights (C) of the logits' dtype; no gradient
  std::int64_t ignore_index = -100;  ///< index targets equal to it add nothing (nor to the mean)
  double label_smoothing = 0;        ///< in [0, 1]: the target mixed with the uniform one
};
/// Cross-entropy from logits (N, C), (C), or (N, C, d1, ...) for per-position classes. Targets:
/// int64 class indices (N) / () / (N, d1, ...), or probabilities shaped as the logits. With
/// index targets the mean divides by the summed weight of the targets not ignored (their count
/// without weights); with probabilities by the number of positions. Fused and stable: one pass,
/// and backward is the closed form.
Tensor cross_entropy(const Tensor& logits, const Tensor& target, const CrossEntropyOptions& o);
/// The same, with the defaults of CrossEntropyOptions but the reduction.
Tensor cross_entropy(const Tensor& logits, const Tensor& target, Reduction r = Reduction::Mean);
/// Options of nll_loss, as torch's.
struct NLLLossOptions {
  Reduction reduction = Reduction::Mean;  ///< how the per-sample losses are reduced
  Tensor weight;                     ///< per-class weights (C) of the input's dtype; no gradient
  std::int64_t ignore_index = -100;  ///< targets equal to it add nothing (nor to the mean)
};
/// Negative log-likelihood of log-probabilities (N, C), (C) or (N, C, d1, ...) at int64 targets
/// (N) / () / (N, d1, ...): -w_t log_probs[t]. The mean divides by the summed weight of the
/// targets not ignored (their count without weights).
Tensor nll_loss(const Tensor& log_probs, const Tensor& target, const NLLLossOptions& o);
/// The same, with the defaults of NLLLossOptions but the reduction.
Tensor nll_loss(const Tensor& log_probs, const Tensor& target, Reduction r = Reduction::Mean);
/// Binary cross-entropy of probabilities; logs clamped to >= -100 as PyTorch does. weight (any
/// shape that broadcasts to the input's) scales each element's loss; no gradient flows to it.
Tensor binary_cross_entropy(const Tensor& probs, const Tensor& target,
                            Reduction r = Reduction::Mean, const Tensor& weight = Tensor());
/// Binary cross-entropy of logits, stable for any logit: max(x, 0) - x y + log(1 + e^-|x|).
/// weight scales each element's loss; pos_weight (e.g. one per class, (C), broadcast over the
/// batch) scales the positive term, torch's way to weigh a rare positive class. Neither gets a
/// gradient.
Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target,
                                        Reduction r = Reduction::Mean,
                                        const Tensor& weight = Tensor(),
                                        const Tensor& pos_weight = Tensor());

/// Huber: (x - y)^2 / 2 where |x - y| < delta, delta (|x - y| - delta / 2) beyond (delta > 0).
Tensor huber_loss(const Tensor& input, const Tensor& target, Reduction r = Reduction::Mean,
                  double delta = 1);
/// Smooth L1: (x - y)^2 / (2 beta) where |x - y| < beta, |x - y| - beta / 2 beyond (beta >= 0;
/// 0 is L1).
Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, Reduction r = Reduction::Mean,
                      double beta = 1);
/// Kullback-Leibler divergence of target from input, input given as log-probabilities: target
/// (log target - input), 0 where target is 0; with log_target the target is log-probabilities
/// too. Reduction::BatchMean (the sum over the batch size) is the one that gives the true
/// divergence, as torch recommends; Mean divides by every element.
Tensor kl_div(const Tensor& input, const Tensor& target, Reduction r = Reduction::Mean,
              bool log_target = false);

}  // namespace functional
}  // namespace tapegrad::nn
