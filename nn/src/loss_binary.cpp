// Binary cross-entropy on probabilities and on logits, with PyTorch's numerics (log clamped at
// -100; the logits form never exponentiates a positive number).
// Legend: p probabilities or x logits, t targets, same shape.
#include "pointwise_loss.h"

namespace tapegrad::nn::functional {

// l = -(t max(log p, -100) + (1 - t) max(log(1 - p), -100))
// gp = (p - t) / max(p (1 - p), eps)   (PyTorch's backward; eps is the float constant 1e-12
//                                       converted to T, 9.999999960041972e-13 in float64)
Tensor binary_cross_entropy(const Tensor& probs, const Tensor& target, Reduction r) {
  const TensorImpl& p = impl_of(probs, "binary_cross_entropy");
  if (target.requires_grad())
    throw ValueError(
        "binary_cross_entropy: the gradient with respect to target is not supported; "
        "use binary_cross_entropy_with_logits or detach() the target");
  return dispatch_float(p.dtype, "binary_cross_entropy", [&]<typename T>() {
    auto pv = cvec<T>(p);
    if (!((pv >= T(0)) && (pv <= T(1))).all())
      throw ValueError("binary_cross_entropy: every input must be a probability in [0, 1]");
    return pointwise_loss<T>(
        "binary_cross_entropy", probs, target, r,
        [](const auto& p, const auto& t) {
          return -(t * p.log().max(T(-100)) + (T(1) - t) * (T(1) - p).log().max(T(-100)));
        },
        [](const auto& p, const auto& t) { return (p - t) / (p * (T(1) - p)).max(T(1e-12f)); },
        NoTargetGrad{});
  });
}

// l = max(x, 0) - x t + log(1 + e^-|x|)
// gx = sigmoid(x) - t      gt = -x
Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target, Reduction r) {
  const TensorImpl& x = impl_of(logits, "binary_cross_entropy_with_logits");
  return dispatch_float(x.dtype, "binary_cross_entropy_with_logits", [&]<typename T>() {
    return pointwise_loss<T>(
        "binary_cross_entropy_with_logits", logits, target, r,
        [](const auto& x, const auto& t) { return x.max(T(0)) - x * t + (-x.abs()).exp().log1p(); },
        [](const auto& x, const auto& t) { return (T(1) + (-x).exp()).inverse() - t; },
        [](const auto& x, const auto&) { return -x; });
  });
}

}  // namespace tapegrad::nn::functional
