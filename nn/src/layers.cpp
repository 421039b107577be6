// The thin layers: Linear, the activations, Dropout, Flatten. No math here: each forward
// calls core ops.
#include <cmath>
#include <sstream>

#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/errors.h"
#include "tapegrad/core/ops.h"
#include "tapegrad/nn/activation.h"
#include "tapegrad/nn/dropout.h"
#include "tapegrad/nn/flatten.h"
#include "tapegrad/nn/functional.h"
#include "tapegrad/nn/init.h"
#include "tapegrad/nn/linear.h"

namespace tapegrad::nn {

Linear::Linear(std::int64_t n_in, std::int64_t n_out, bool bias, Generator* gen)
    : n_in_(n_in), n_out_(n_out) {
  if (n_in < 1 || n_out < 1)
    throw ValueError(msg("Linear: sizes must be positive: got n_in ", n_in, ", n_out ", n_out));
  Tensor w = empty({n_out, n_in});
  init::kaiming_uniform_(w, std::sqrt(5.0), init::FanMode::FanIn, "leaky_relu", gen);
  weight_ = register_parameter("weight", w);
  if (bias) {
    Tensor b = empty({n_out});
    const double bound = 1 / std::sqrt(static_cast<double>(n_in));
    init::uniform_(b, -bound, bound, gen);
    bias_ = register_parameter("bias", b);
  }
}

Tensor Linear::forward(const Tensor& x) { return linear(x, weight_, bias_); }

std::string Linear::extra_repr() const {
  return msg("in_features=", n_in_, ", out_features=", n_out_,
             ", bias=", bias_.defined() ? "true" : "false");
}

Tensor Sigmoid::forward(const Tensor& x) { return sigmoid(x); }
Tensor Tanh::forward(const Tensor& x) { return tanh(x); }
Tensor ReLU::forward(const Tensor& x) { return relu(x); }
Tensor LeakyReLU::forward(const Tensor& x) { return leaky_relu(x, slope_); }
std::string LeakyReLU::extra_repr() const { return msg("negative_slope=", slope_); }
// The constructors check their options by applying the op to an empty tensor: one place
// (the op) holds each rule and its message.
Softplus::Softplus(double beta, double threshold) : beta_(beta), threshold_(threshold) {
  softplus(zeros({0}), beta, threshold);
}
Tensor Softplus::forward(const Tensor& x) { return softplus(x, beta_, threshold_); }
std::string Softplus::extra_repr() const { return msg("beta=", beta_, ", threshold=", threshold_); }

ELU::ELU(double alpha) : alpha_(alpha) { elu(zeros({0}), alpha); }
Tensor ELU::forward(const Tensor& x) { return elu(x, alpha_); }
std::string ELU::extra_repr() const { return msg("alpha=", alpha_); }

Tensor GELU::forward(const Tensor& x) { return gelu(x, approximate_); }
std::string GELU::extra_repr() const {
  return approximate_ == GeluApproximate::Tanh ? "approximate='tanh'" : "approximate='none'";
}

Tensor SiLU::forward(const Tensor& x) { return silu(x); }

Hardtanh::Hardtanh(double min_val, double max_val) : min_(min_val), max_(max_val) {
  hardtanh(zeros({0}), min_val, max_val);
}
Tensor Hardtanh::forward(const Tensor& x) { return hardtanh(x, min_, max_); }
std::string Hardtanh::extra_repr() const { return msg("min_val=", min_, ", max_val=", max_); }

Tensor ReLU6::forward(const Tensor& x) { return relu6(x); }

Tensor Softmax::forward(const Tensor& x) { return softmax(x, dim_); }
Tensor LogSoftmax::forward(const Tensor& x) { return log_softmax(x, dim_); }

Dropout::Dropout(double p, Generator* gen) : p_(p), gen_(gen) {
  if (!(p >= 0 && p <= 1)) throw ValueError(msg("Dropout: p must be in [0, 1], got ", p));
}
Tensor Dropout::forward(const Tensor& x) { return functional::dropout(x, p_, is_training(), gen_); }
std::string Dropout::extra_repr() const { return msg("p=", p_); }

Dropout2d::Dropout2d(double p, Generator* gen) : p_(p), gen_(gen) {
  if (!(p >= 0 && p <= 1)) throw ValueError(msg("Dropout2d: p must be in [0, 1], got ", p));
}
Tensor Dropout2d::forward(const Tensor& x) {
  return functional::dropout2d(x, p_, is_training(), gen_);
}
std::string Dropout2d::extra_repr() const { return msg("p=", p_); }

Tensor Flatten::forward(const Tensor& x) { return flatten(x, start_, end_); }
Unflatten::Unflatten(std::int64_t dim, Shape sizes) : dim_(dim), sizes_(std::move(sizes)) {
  if (sizes_.empty()) throw ValueError("Unflatten: sizes must not be empty");
  int unknown = 0;
  for (std::int64_t s : sizes_) {
    if (s == -1) ++unknown;
    if (s < -1 || s == 0 || unknown > 1)
      throw ValueError(msg("Unflatten: sizes must be positive, one of them -1 at most: got ",
                           shape_str(sizes_)));
  }
}

Tensor Unflatten::forward(const Tensor& x) {
  const std::int64_t r = x.dim();
  const std::int64_t d = dim_ < 0 ? dim_ + r : dim_;
  if (d < 0 || d >= r)
    throw ValueError(msg("Unflatten: dim ", dim_, " is out of range for ", shape_str(x.shape())));
  Shape out(x.shape().begin(), x.shape().begin() + d);
  out.insert(out.end(), sizes_.begin(), sizes_.end());
  out.insert(out.end(), x.shape().begin() + d + 1, x.shape().end());
  try {
    return reshape(x, out);
  } catch (const ShapeError&) {
    throw ShapeError(msg("Unflatten: dim ", dim_, " of ", shape_str(x.shape()),
                         " does not split into ", shape_str(sizes_)));
  }
}

std::string Unflatten::extra_repr() const {
  return msg("dim=", dim_, ", unflattened_size=", shape_str(sizes_));
}

std::string Flatten::extra_repr() const { return msg("start_dim=", start_, ", end_dim=", end_); }

namespace functional {
// y = x * mask / (1 - p), mask ~ Bernoulli(1 - p): the expected value of y is x.
Tensor dropout(const Tensor& x, double p, bool training, Generator* gen) {
  if (!(p >= 0 && p <= 1)) throw ValueError(msg("dropout: p must be in [0, 1], got ", p));
  if (!training || p == 0) return x;
  if (p == 1) return x * 0.0;
  const Tensor keep =
      ge(rand(x.shape(), {.dtype = x.dtype()}, gen), scalar_tensor(p, {.dtype = x.dtype()}));
  return x * (keep * (1.0 / (1.0 - p)));
}

Tensor dropout2d(const Tensor& x, double p, bool training, Generator* gen) {
  if (!(p >= 0 && p <= 1)) throw ValueError(msg("dropout2d: p must be in [0, 1], got ", p));
  if (x.dim() != 3 && x.dim() != 4)
    throw ShapeError(
        msg("dropout2d: the input must be (N, C, H, W) or (C, H, W): got ", shape_str(x.shape())));
  if (!training || p == 0) return x;
  if (p == 1) return x * 0.0;
  // One draw per channel, broadcast over its plane.
  Shape mask = x.shape();
  mask[mask.size() - 1] = mask[mask.size() - 2] = 1;
  const Tensor keep =
      ge(rand(mask, {.dtype = x.dtype()}, gen), scalar_tensor(p, {.dtype = x.dtype()}));
  return x * (keep * (1.0 / (1.0 - p)));
}
}  // namespace functional

}  // namespace tapegrad::nn
