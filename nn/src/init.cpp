// Initialisers: draw into a temporary of the parameter's shape, then copy in place without
// recording. Fans and gains follow torch.nn.init exactly.
#include "tapegrad/nn/init.h"

#include <cmath>

#include "tapegrad/core/autograd.h"
#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/errors.h"
#include "tapegrad/core/ops.h"

namespace tapegrad::nn::init {

double calculate_gain(const std::string& nl, double param) {
  if (nl == "linear" || nl == "identity" || nl == "sigmoid" || nl.rfind("conv", 0) == 0) return 1;
  if (nl == "tanh") return 5.0 / 3;
  if (nl == "relu") return std::sqrt(2.0);
  if (nl == "leaky_relu") return std::sqrt(2.0 / (1 + param * param));
  if (nl == "selu") return 3.0 / 4;
  throw ValueError(msg("calculate_gain: unknown nonlinearity '", nl,
                       "' (expected linear, sigmoid, tanh, relu, leaky_relu or selu)"));
}

std::pair<std::int64_t, std::int64_t> calculate_fan_in_and_fan_out(const Tensor& t) {
  if (t.dim() < 2)
    throw ValueError(
        msg("calculate_fan_in_and_fan_out: needs at least 2 dims: got ", shape_str(t.shape())));
  const std::int64_t receptive = t.numel() / (t.size(0) * t.size(1));
  return {t.size(1) * receptive, t.size(0) * receptive};
}

namespace {
Tensor assign(const Tensor& t, const Tensor& values) {
  NoGradGuard no_grad;
  t.copy_(values);
  return t;
}
std::int64_t fan(const Tensor t, FanMode mode) {
  auto [in, out] = calculate_fan_in_and_fan_out(t);
  return mode == FanMode::FanIn ? in : out;
}
}  // namespace

Tensor uniform_(const Tensor& t, double a, double b, Generator* gen) {
  if (!(a <= b)) throw ValueError(msg("uniform_: need a <= b: got a ", a, ", b ", b));
  return assign(t, rand(t.shape(), {.dtype = t.dtype()}, gen) * (b - a) + a);
}
Tensor normal_(const Tensor& t, double mean, double std, Generator* gen) {
  if (!(std >= 0)) throw ValueError(msg("normal_: std must be >= 0: got ", std));
  return assign(t, randn(t.shape(), {.dtype = t.dtype()}, gen) * std + mean);
}
Tensor constant_(const Tensor& t, double value) {
  NoGradGuard no_grad;
  t.fill_(value);
  return t;
}
Tensor zeros_(const Tensor& t) { return constant_(t, 0); }
Tensor ones_(const Tensor& t) { return constant_(t, 1); }

Tensor xavier_uniform_(const Tensor& t, double gain, Generator* gen) {
  auto [in, out] = calculate_fan_in_and_fan_out(t);
  const double a = gain * std::sqrt(6.0 / static_cast<double>(in + out));
  return uniform_(t, -a, a, gen);
}
Tensor xavier_normal_(const Tensor& t, double gain, Generator* gen) {
  auto [in, out] = calculate_fan_in_and_fan_out(t);
  return normal_(t, 0, gain * std::sqrt(2.0 / static_cast<double>(in + out)), gen);
}
Tensor kaiming_uniform_(const Tensor& t, double a, FanMode mode, const std::string& nl,
                        Generator* gen) {
  const double bound = calculate_gain(nl, a) * std::sqrt(3.0 / static_cast<double>(fan(t, mode)));
  return uniform_(t, -bound, bound, gen);
}
Tensor kaiming_normal_(const Tensor& t, double a, FanMode mode, const std::string& nl,
                       Generator* gen) {
  return normal_(t, 0, calculate_gain(nl, a) / std::sqrt(static_cast<double>(fan(t, mode))), gen);
}

}  // namespace tapegrad::nn::init
