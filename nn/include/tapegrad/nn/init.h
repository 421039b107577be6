// Parameter initialisers (torch.nn.init): each fills a tensor in place, without recording, from
// the given generator or the global one, and returns it.
// References: Glorot & Bengio 2010 (xavier_*); He et al. 2015 (kaiming_*).
#pragma once
#include <string>

#include "tapegrad/core/random.h"
#include "tapegrad/core/tensor.h"

namespace tapegrad::nn::init {

/// Which fan the kaiming initialisers scale by: fan_in keeps the forward pass's variance,
/// fan_out the backward pass's.
enum class FanMode { FanIn, FanOut };

/// Recommended gain for a nonlinearity: linear/identity/sigmoid 1, tanh 5/3, relu sqrt(2),
/// leaky_relu sqrt(2 / (1 + param^2)) (param defaults to 0.01), selu 3/4.
double calculate_gain(const std::string& nonlinearity, double param = 0.01);
/// fan_in and fan_out as PyTorch computes them: dims 1 and 0 times the receptive field.
std::pair<std::int64_t, std::int64_t> calculate_fan_in_and_fan_out(const Tensor& t);

/// U(a, b): uniform in [a, b).
Tensor uniform_(const Tensor& t, double a = 0, double b = 1, Generator* gen = nullptr);
/// N(mean, std^2).
Tensor normal_(const Tensor& t, double mean = 0, double std = 1, Generator* gen = nullptr);
/// Every element set to value.
Tensor constant_(const Tensor& t, double value);
/// Every element set to 0.
Tensor zeros_(const Tensor& t);
/// Every element set to 1.
Tensor ones_(const Tensor& t);
/// U(-a, a) with a = gain sqrt(6 / (fan_in + fan_out)).
Tensor xavier_uniform_(const Tensor& t, double gain = 1, Generator* gen = nullptr);
/// N(0, std^2) with std = gain sqrt(2 / (fan_in + fan_out)).
Tensor xavier_normal_(const Tensor& t, double gain = 1, Generator* gen = nullptr);
/// U(-bound, bound) with bound = gain sqrt(3 / fan), gain = calculate_gain(nonlinearity, a).
Tensor kaiming_uniform_(const Tensor& t, double a = 0, FanMode mode = FanMode::FanIn,
                        const std::string& nonlinearity = "leaky_relu", Generator* gen = nullptr);
/// N(0, std^2) with std = gain / sqrt(fan).
Tensor kaiming_normal_(const Tensor& t, double a = 0, FanMode mode = FanMode::FanIn,
                       const std::string& nonlinearity = "leaky_relu", Generator* gen = nullptr);

}  // namespace tapegrad::nn::init
