// The losses built from core ops (MSE, L1, NLL) and the loss modules.
#include "check.h"
#include "reduction.h"
#include "tapegrad/nn/loss.h"

namespace tapegrad::nn {

namespace functional {

namespace {
void check_same_shape(const char* op, const Tensor& input, const Tensor& target) {
  // PyTorch only warns here, but a broadcast (B, 1) against (B) silently gives a wrong loss.
  if (input.shape() != target.shape())
    throw ShapeError(msg(op, ": input ", shape_str(input.shape()), " and target ",
                         shape_str(target.shape()), " differ in shape"));
}
}  // namespace

Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction r) {
  check_same_shape("mse_loss", input, target);
  return reduce(pow(input - target, 2), r);
}

Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction r) {
  check_same_shape("l1_loss", input, target);
  return reduce(abs(input - target), r);
}

// loss_i = -log_probs[i, t_i]: the log-probability each sample gives its own class.
Tensor nll_loss(const Tensor& log_probs, const Tensor& target, Reduction r) {
  if (log_probs.dim() != 2)
    throw ShapeError(msg("nll_loss: log_probs must be (batch, classes): got ",
                         shape_str(log_probs.shape())));
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
