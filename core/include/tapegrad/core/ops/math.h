// Elementwise math of one input: powers, exp/log, roots, abs, trigonometry, clamp.
#pragma once
#include <cstdint>
#include <optional>

#include "tapegrad/core/tensor.h"

namespace tapegrad {

/// x^p for a scalar exponent p.
Tensor pow(const Tensor& x, double p);
/// e^x.
Tensor exp(const Tensor& x);
/// The natural logarithm.
Tensor log(const Tensor& x);
/// The square root.
Tensor sqrt(const Tensor& x);
/// |x|; the gradient at 0 is 0.
Tensor abs(const Tensor& x);

/// x * x (int64 stays int64).
Tensor square(const Tensor& x);

/// 1 / sqrt(x).
Tensor rsqrt(const Tensor& x);
/// The sine (x in radians).
Tensor sin(const Tensor& x);
/// The cosine (x in radians).
Tensor cos(const Tensor& x);
/// The error function, 2 / sqrt(pi) times the integral of e^(-t^2) from 0 to x (torch.erf).
Tensor erf(const Tensor& x);

/// Limits x to [lo, hi], either bound optional (at least one given), as torch.clamp: with
/// lo > hi every element becomes hi. NaN elements stay NaN. The gradient passes only where
/// lo <= x <= hi.
Tensor clamp(const Tensor& x, std::optional<double> lo, std::optional<double> hi);
/// clamp(x, lo, none): x raised to at least lo.
Tensor clamp_min(const Tensor& x, double lo);
/// clamp(x, none, hi): x lowered to at most hi.
Tensor clamp_max(const Tensor& x, double hi);

}  // namespace tapegrad
