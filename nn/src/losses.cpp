// MSE, L1 and NLL, and the loss modules.
#include "check.h"
#include "pointwise_loss.h"
#include "reduction.h"
#include "tapegrad/nn/loss.h"

namespace tapegrad::nn {

namespace functional {

// l = (x - t)^2     gx = 2 (x - t)     gt = -gx
Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction r) {
  return dispatch_float(impl_of(input, "mse_loss").dtype, "mse_loss", [&]<typename T>() {
    return pointwise_loss<T>(
        "mse_loss", input, target, r, [](const auto& x, const auto& t) { return (x - t).square(); },
        [](const auto& x, const auto& t) { return T(2) * (x - t); },
        [](const auto& x, const auto& t) { return T(2) * (t - x); });
  });
}

// l = |x - t|     gx = sign(x - t)     gt = -gx
Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction r) {
  return dispatch_float(impl_of(input, "l1_loss").dtype, "l1_loss", [&]<typename T>() {
    return pointwise_loss<T>(
        "l1_loss", input, target, r, [](const auto& x, const auto& t) { return (x - t).abs(); },
        [](const auto& x, const auto& t) { return (x - t).sign(); },
        [](const auto& x, const auto& t) { return (t - x).sign(); });
  });
}

// loss_i = -log_probs[i, t_i]: the log-probability each sample gives its own class.
Tensor nll_loss(const Tensor& log_probs, const Tensor& target, Reduction r) {
  if (log_probs.dim() != 2)
    throw ShapeError(
        msg("nll_loss: log_probs must be (batch, classes): got ", shape_str(log_probs.shape())));
  if (target.dtype() != kInt64 || target.shape() != Shape{log_probs.size(0)})
    throw ShapeError(msg("nll_loss: target must be int64 (", log_probs.size(0), "): got ",
                         shape_str(target.shape()), " ", dtype_name(target.dtype())));
  return reduce(-gather(log_probs, 1, target.reshape({-1, 1})).reshape({-1}), r);
}

}  // namespace functional

Tensor MSELoss::forward(const Tensor& i, const Tensor& t) const {
  return functional::mse_loss(i, t, reduction_);
}
Tensor L1Loss::forward(const Tensor& i, const Tensor& t) const {
  return functional::l1_loss(i, t, reduction_);
}
Tensor CrossEntropyLoss::forward(const Tensor& i, const Tensor& t) const {
  return functional::cross_entropy(i, t, reduction_);
}
Tensor NLLLoss::forward(const Tensor& i, const Tensor& t) const {
  return functional::nll_loss(i, t, reduction_);
}
Tensor BCELoss::forward(const Tensor& i, const Tensor& t) const {
  return functional::binary_cross_entropy(i, t, reduction_);
}
Tensor BCEWithLogitsLoss::forward(const Tensor& i, const Tensor& t) const {
  return functional::binary_cross_entropy_with_logits(i, t, reduction_);
}

}  // namespace tapegrad::nn
