// Elementwise math of one input: powers, exp/log, roots, abs, trigonometry, clamp.
#pragma once
#include <cstdint>
#include <optional>

#include "tapegrad/core/tensor.h"

namespace tapegrad {

/// x^p for a scalar exponent p.
Tensor pow(const Tensor& x, double p);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor abs(const Tensor& x);

/// x * x (int64 stays int64).
Tensor square(const Tensor& x);

/// 1 / sqrt(x).
Tensor rsqrt(const Tensor& x);
Tensor sin(const Tensor& x);
Tensor cos(const Tensor& x);

/// Limits x to [lo, hi], either bound optional (at least one given), as torch.clamp: with
/// lo > hi every element becomes hi. NaN elements stay NaN. The gradient passes only where
/// lo <= x <= hi.
Tensor clamp(const Tensor& x, std::optional<double> lo, std::optional<double> hi);
Tensor clamp_min(const Tensor& x, double lo);
Tensor clamp_max(const Tensor& x, double hi);

}  // namespace tapegrad
