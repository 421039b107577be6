// Elementwise math of one input.
// Each comment gives y and dy/dx; backward adds g * dy/dx into gx.
#include <cmath>
#include <unsupported/Eigen/SpecialFunctions>  // erf over whole arrays

#include "kernels/dispatch.h"
#include "kernels/elementwise.h"
#include "tapegrad/core/ops.h"

namespace tapegrad {

// y = x^p.   dy/dx = p x^(p-1).   Exponents 2 and 0.5 take the exact fast paths.
Tensor pow(const Tensor& x, double p) {
  if (!std::isfinite(p)) throw ValueError(msg("pow: exponent must be finite, got ", p));
  if (p == 2)
    return unary_op(
        "pow", x, [](const auto& v) { return v.square(); },
        [](const auto& g, const auto& v) { return g * v * scalar_like(v, 2); },
        [](const Tensor& g, const Tensor& v) { return g * v * 2.0; });
  if (p == 0.5)
    return unary_op(
        "pow", x, [](const auto& v) { return v.sqrt(); },
        [](const auto& g, const auto&, const auto& y) { return g * scalar_like(y, 0.5) / y; },
        [](const Tensor& g, const Tensor& v) { return g * 0.5 / sqrt(v); });
  return unary_op(
      "pow", x, [p](const auto& v) { return v.pow(scalar_like(v, p)); },
      [p](const auto& g, const auto& v) {
        return g * scalar_like(v, p) * v.pow(scalar_like(v, p - 1));
      },
      [p](const Tensor& g, const Tensor& v) { return g * p * pow(v, p - 1); });
}

// y = e^x.   dy/dx = y.
Tensor exp(const Tensor& x) {
  return unary_op(
      "exp", x, [](const auto& v) { return v.exp(); },
      [](const auto& g, const auto&, const auto& y) { return g * y; },
      [](const Tensor& g, const Tensor& v) { return g * exp(v); });
}

// y = ln x.   dy/dx = 1/x.
Tensor log(const Tensor& x) {
  return unary_op(
      "log", x, [](const auto& v) { return v.log(); },
      [](const auto& g, const auto& v) { return g / v; },
      [](const Tensor& g, const Tensor& v) { return g / v; });
}

// y = sqrt(x).   dy/dx = 1 / (2 y).
Tensor sqrt(const Tensor& x) {
  return unary_op(
      "sqrt", x, [](const auto& v) { return v.sqrt(); },
      [](const auto& g, const auto&, const auto& y) { return g * scalar_like(y, 0.5) / y; },
      [](const Tensor& g, const Tensor& v) { return g * 0.5 / sqrt(v); });
}

// y = |x|.   dy/dx = sign(x), taken as 0 at x = 0 as PyTorch does.
Tensor abs(const Tensor& x) {
  return unary_op(
      "abs", x, [](const auto& v) { return v.abs(); },
      [](const auto& g, const auto& v) { return g * v.sign(); },
      [](const Tensor& g, const Tensor& v) { return g * sign(v); });
}

// y = x^2.   dy/dx = 2x.   int64 squares exactly through mul.
Tensor square(const Tensor& x) {
  if (impl_of(x, "square").dtype == kInt64) return x * x;
  return unary_op(
      "square", x, [](const auto& v) { return v.square(); },
      [](const auto& g, const auto& v) { return g * v * scalar_like(v, 2); },
      [](const Tensor& g, const Tensor& v) { return g * v * 2.0; });
}

// y = 1 / sqrt(x).   dy/dx = -y^3 / 2.
Tensor rsqrt(const Tensor& x) {
  return unary_op(
      "rsqrt", x, [](const auto& v) { return v.rsqrt(); },
      [](const auto& g, const auto&, const auto& y) { return g * scalar_like(y, -0.5) * y.cube(); },
      [](const Tensor& g, const Tensor& v) { return g * -0.5 * pow(rsqrt(v), 3); });
}

// y = sin x.   dy/dx = cos x.
Tensor sin(const Tensor& x) {
  return unary_op(
      "sin", x, [](const auto& v) { return v.sin(); },
      [](const auto& g, const auto& v) { return g * v.cos(); },
      [](const Tensor& g, const Tensor& v) { return g * cos(v); });
}

// y = cos x.   dy/dx = -sin x.
Tensor cos(const Tensor& x) {
  return unary_op(
      "cos", x, [](const auto& v) { return v.cos(); },
      [](const auto& g, const auto& v) { return -g * v.sin(); },
      [](const Tensor& g, const Tensor& v) { return -g * sin(v); });
}

// y = erf x.   dy/dx = 2 / sqrt(pi) e^(-x^2).
Tensor erf(const Tensor& x) {
  constexpr double k2OverSqrtPi = 1.12837916709551257390;
  return unary_op(
      "erf", x, [](const auto& v) { return v.erf(); },
      [](const auto& g, const auto& v) {
        return g * (-v.square()).exp() * scalar_like(v, k2OverSqrtPi);
      },
      [](const Tensor& g, const Tensor& v) { return g * exp(-square(v)) * k2OverSqrtPi; });
}

// y = min(max(x, lo), hi), either bound absent; NaN propagates as torch's.
// dy/dx = 1 where lo <= x <= hi (each test only for a bound given), else 0 (torch's convention;
// with lo > hi nothing passes).
Tensor clamp(const Tensor& x, std::optional<double> lo, std::optional<double> hi) {
  if (!lo && !hi) throw ValueError("clamp: at least one of lo and hi must be given");
  if ((lo && std::isnan(*lo)) || (hi && std::isnan(*hi)))
    throw ValueError(msg("clamp: a bound is NaN: lo ", lo ? *lo : 0.0, ", hi ", hi ? *hi : 0.0));
  const double l = lo.value_or(-INFINITY), h = hi.value_or(INFINITY);
  return unary_op(
      "clamp", x,
      [l, h](const auto& v) { return min_nan(max_nan(v, scalar_like(v, l)), scalar_like(v, h)); },
      [l, h](const auto& g, const auto& v) {
        return (v >= scalar_like(v, l) && v <= scalar_like(v, h)).select(g, scalar_like(v, 0));
      },
      [l, h](const Tensor& g, const Tensor& v) {
        // 1 on [l, h]: not below l and not above h (either bound may be infinite).
        const Tensor one = scalar_tensor(1, {.dtype = v.dtype()});
        return g * ((one - lt(v, scalar_tensor(l, {.dtype = v.dtype()}))) *
                    (one - gt(v, scalar_tensor(h, {.dtype = v.dtype()}))));
      });
}
Tensor clamp_min(const Tensor& x, double lo) { return clamp(x, lo, std::nullopt); }
Tensor clamp_max(const Tensor& x, double hi) { return clamp(x, std::nullopt, hi); }

}  // namespace tapegrad
