// Elementwise math of one input, plus dtype conversion and clone.
// Each comment gives y and dy/dx; backward adds g * dy/dx into gx.
#include <cmath>

#include "kernels.h"
#include "tapegrad/core/ops.h"

namespace tapegrad {

// y = x^p.   dy/dx = p x^(p-1).   Exponents 2 and 0.5 take the exact fast paths.
Tensor pow(const Tensor& x, double p) {
  if (!std::isfinite(p)) throw ValueError(msg("pow: exponent must be finite, got ", p));
  if (p == 2)
    return unary_op(
        "pow", x, [](const auto& v) { return v.square(); },
        [](const auto& g, const auto& v, const auto&) { return g * v * scalar_like(v, 2); });
  if (p == 0.5)
    return unary_op(
        "pow", x, [](const auto& v) { return v.sqrt(); },
        [](const auto& g, const auto&, const auto& y) { return g * scalar_like(y, 0.5) / y; });
  return unary_op(
      "pow", x, [p](const auto& v) { return v.pow(scalar_like(v, p)); },
      [p](const auto& g, const auto& v, const auto&) {
        return g * scalar_like(v, p) * v.pow(scalar_like(v, p - 1));
      });
}

// y = e^x.   dy/dx = y.
Tensor exp(const Tensor& x) {
  return unary_op(
      "exp", x, [](const auto& v) { return v.exp(); },
      [](const auto& g, const auto&, const auto& y) { return g * y; });
}

// y = ln x.   dy/dx = 1/x.
Tensor log(const Tensor& x) {
  return unary_op(
      "log", x, [](const auto& v) { return v.log(); },
      [](const auto& g, const auto& v, const auto&) { return g / v; });
}

// y = sqrt(x).   dy/dx = 1 / (2 y).
Tensor sqrt(const Tensor& x) {
  return unary_op(
      "sqrt", x, [](const auto& v) { return v.sqrt(); },
      [](const auto& g, const auto&, const auto& y) { return g * scalar_like(y, 0.5) / y; });
}

// y = |x|.   dy/dx = sign(x), taken as 0 at x = 0 as PyTorch does.
Tensor abs(const Tensor& x) {
  return unary_op(
      "abs", x, [](const auto& v) { return v.abs(); },
      [](const auto& g, const auto& v, const auto&) { return g * v.sign(); });
}

// y = x^2.   dy/dx = 2x.   int64 squares exactly through mul.
Tensor square(const Tensor& x) {
  if (impl_of(x, "square").dtype == kInt64) return x * x;
  return unary_op(
      "square", x, [](const auto& v) { return v.square(); },
      [](const auto& g, const auto& v, const auto&) { return g * v * scalar_like(v, 2); });
}

// y = 1 / sqrt(x).   dy/dx = -y^3 / 2.
Tensor rsqrt(const Tensor& x) {
  return unary_op(
      "rsqrt", x, [](const auto& v) { return v.rsqrt(); },
      [](const auto& g, const auto&, const auto& y) {
        return g * scalar_like(y, -0.5) * y.cube();
      });
}

// y = sin x.   dy/dx = cos x.
Tensor sin(const Tensor& x) {
  return unary_op(
      "sin", x, [](const auto& v) { return v.sin(); },
      [](const auto& g, const auto& v, const auto&) { return g * v.cos(); });
}

// y = cos x.   dy/dx = -sin x.
Tensor cos(const Tensor& x) {
  return unary_op(
      "cos", x, [](const auto& v) { return v.cos(); },
      [](const auto& g, const auto& v, const auto&) { return -g * v.sin(); });
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
      [l, h](const auto& g, const auto& v, const auto&) {
        return (v >= scalar_like(v, l) && v <= scalar_like(v, h)).select(g, scalar_like(v, 0));
      });
}
Tensor clamp_min(const Tensor& x, double lo) { return clamp(x, lo, std::nullopt); }
Tensor clamp_max(const Tensor& x, double hi) { return clamp(x, std::nullopt, hi); }

// y = x converted to dtype d.   gx = g converted back (floating types only).
Tensor Tensor::to(Dtype d) const {
  const TensorImpl& ix = impl_of(*this, "to");
  if (ix.dtype == d) return *this;
  ImplPtr y = make_impl(ix.shape, d);
  dispatch_all(ix.dtype, [&]<typename S>() {
    if constexpr (std::is_floating_point_v<S>)
      if (d == kInt64) {
        // Truncation toward zero, as PyTorch; a value int64 cannot hold (NaN, Inf, beyond
        // +-2^63) would be undefined behaviour in the cast, so it is refused by position.
        const auto x = cvec<S>(ix);
        const S limit = S(9223372036854775808.0);
        if (!(x.isFinite() && x >= -limit && x < limit).all())
          for (std::int64_t i = 0; i < ix.numel; ++i)
            if (!(std::isfinite(x[i]) && x[i] >= -limit && x[i] < limit))
              throw ValueError(msg("to: element ", i, " is ", x[i], ", which int64 cannot hold"));
      }
    dispatch_all(d, [&]<typename D>() { vec<D>(*y) = cvec<S>(ix).template cast<D>(); });
  });
  return record("to", y, {*this}, [](BackwardCtx& c) {
    TensorImpl* gx = c.grad_in(0);
    if (!gx) return;
    dispatch_float(gx->dtype, "to", [&]<typename S>() {
      dispatch_float(c.grad_out().dtype, "to", [&]<typename D>() {
        vec<S>(*gx) += cvec<D>(c.grad_out()).template cast<S>();
      });
    });
  });
}

// y = a copy of x with its own storage.   gx = g.
Tensor Tensor::clone() const {
  const TensorImpl& ix = impl_of(*this, "clone");
  ImplPtr y = copy_impl(ix);
  return record("clone", y, {*this}, [](BackwardCtx& c) {
    if (TensorImpl* gx = c.grad_in(0)) add_into(*gx, c.grad_out());
  });
}

}  // namespace tapegrad
