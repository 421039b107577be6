// Elementwise math of one input, plus dtype conversion and clone.
// Each comment gives y and dy/dx; backward adds g * dy/dx into gx.
#include <cmath>
#include <cstring>

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

// y = min(max(x, lo), hi).   dy/dx = 1 where lo <= x <= hi, else 0 (PyTorch's convention).
Tensor clamp(const Tensor& x, double lo, double hi) {
  if (!(lo <= hi)) throw ValueError(msg("clamp: lo must be <= hi: got lo ", lo, ", hi ", hi));
  return unary_op(
      "clamp", x,
      [lo, hi](const auto& v) { return v.max(scalar_like(v, lo)).min(scalar_like(v, hi)); },
      [lo, hi](const auto& g, const auto& v, const auto&) {
        using S = typename std::decay_t<decltype(v)>::Scalar;
        return g * (v >= S(lo) && v <= S(hi)).template cast<S>();
      });
}

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
  ImplPtr y = make_impl(ix.shape, ix.dtype);
  std::memcpy(y->storage->data, ix.storage->data, ix.bytes());
  return record("clone", y, {*this}, [](BackwardCtx& c) {
    if (TensorImpl* gx = c.grad_in(0)) add_into(*gx, c.grad_out());
  });
}

}  // namespace tapegrad
