// Broadcasting arithmetic (+ - * /) and the tensor-scalar forms built on affine().
// Legend: a, b inputs broadcast to y; g the gradient of y. Each op gives y and its partial
// derivatives; binary_op multiplies them by g and sums each back to its input's shape.
#include "autograd/tape.h"
#include "kernels/dispatch.h"
#include "kernels/elementwise.h"
#include "tapegrad/core/autograd.h"
#include "tensor/check.h"

namespace tapegrad {

// y = a + b.   dy/da = 1, dy/db = 1.
Tensor add(const Tensor& a, const Tensor& b) {
  return binary_op(
      "add", a, b, [](const auto& x, const auto& z) { return x + z; }, PassGrad{}, PassGrad{},
      [](const Tensor& g, const Tensor&, const Tensor&) { return g; },
      [](const Tensor& g, const Tensor&, const Tensor&) { return g; });
}

// y = a - b.   dy/da = 1, dy/db = -1.
Tensor sub(const Tensor& a, const Tensor& b) {
  return binary_op(
      "sub", a, b, [](const auto& x, const auto& z) { return x - z; }, PassGrad{},
      [](const auto& g, const auto&, const auto&) { return -g; },
      [](const Tensor& g, const Tensor&, const Tensor&) { return g; },
      [](const Tensor& g, const Tensor&, const Tensor&) { return -g; });
}

// y = a b.   dy/da = b, dy/db = a.
Tensor mul(const Tensor& a, const Tensor& b) {
  return binary_op(
      "mul", a, b, [](const auto& x, const auto& z) { return x * z; },
      [](const auto& g, const auto&, const auto& bb) { return g * bb; },
      [](const auto& g, const auto& aa, const auto&) { return g * aa; },
      [](const Tensor& g, const Tensor&, const Tensor& bb) { return g * bb; },
      [](const Tensor& g, const Tensor& aa, const Tensor&) { return g * aa; });
}

// y = a / b.   dy/da = 1/b, dy/db = -a/b^2 = -y/b (reusing y saves a product).
Tensor div(const Tensor& a, const Tensor& b) {
  check_floating("div", impl_of(a, "div"));
  return binary_op(
      "div", a, b, [](const auto& x, const auto& z) { return x / z; },
      [](const auto& g, const auto&, const auto& bb) { return g / bb; },
      [](const auto& g, const auto&, const auto& bb, const auto& y) { return -g * y / bb; },
      [](const Tensor& g, const Tensor&, const Tensor& bb) { return g / bb; },
      [](const Tensor& g, const Tensor& aa, const Tensor& bb) { return -g * (aa / bb) / bb; });
}

namespace {
// y = s x + t with scalars s, t, recorded under the name of the op the user called.
// dy/dx = s. With divide, y = x / s and gx = g / s instead: true division, as torch's (x times
// 1 / s differs from it in the last bit for about a third of float32 values).
Tensor affine_as(const char* op, const Tensor& x0, double s, double t, bool divide = false) {
  const TensorImpl& ix0 = impl_of(x0, op);
  // An int64 tensor stays int64 only under integer scalars, as in PyTorch.
  const bool to_float = ix0.dtype == kInt64 && (s != std::floor(s) || t != std::floor(t));
  const Tensor converted = to_float ? x0.to(kFloat32) : Tensor();
  const Tensor& x = to_float ? converted : x0;  // a reference: no count traffic on x0
  const TensorImpl& ix = *impl_ptr(x);
  return dispatch_all(ix.dtype, [&]<typename T>() {
    const T ts = static_cast<T>(s), tt = static_cast<T>(t);
    ImplPtr y = divide ? map_unary<T>(ix, [&](const auto& v) { return v / ts; })
                       : map_unary<T>(ix, [&](const auto& v) { return (v * ts + tt); });
    return record(op, std::move(y), {x},
                  WithGraph{[ts, divide](BackwardCtx& c) {
                              // gx = ts * g (g / ts) over g's own buffer when it can be handed
                              // down, else gx += ts * g (g / ts).
                              if (TensorImpl* gx = c.steal_grad_out(0)) {
                                if (divide)
                                  vec<T>(*gx) /= ts;
                                else
                                  vec<T>(*gx) *= ts;
                              } else if ((gx = c.grad_in(0))) {
                                if (divide)
                                  vec<T>(*gx) += cvec<T>(c.grad_out()) / ts;
                                else
                                  vec<T>(*gx) += ts * cvec<T>(c.grad_out());
                              }
                            },
                            [ts, divide](GraphCtx& c) {
                              if (!c.needs(0)) return;
                              const auto d = static_cast<double>(ts);
                              c.add(0, divide ? c.grad_out() / d : c.grad_out() * d);
                            }});
  });
}
}  // namespace

Tensor affine(const Tensor& x, double a, double b) { return affine_as("affine", x, a, b); }
Tensor neg(const Tensor& x) { return affine_as("neg", x, -1, 0); }

Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator-(const Tensor& x) { return neg(x); }
Tensor operator+(const Tensor& x, double s) { return affine_as("add", x, 1, s); }
Tensor operator+(double s, const Tensor& x) { return affine_as("add", x, 1, s); }
Tensor operator-(const Tensor& x, double s) { return affine_as("sub", x, 1, -s); }
Tensor operator-(double s, const Tensor& x) { return affine_as("sub", x, -1, s); }
Tensor operator*(const Tensor& x, double s) { return affine_as("mul", x, s, 0); }
Tensor operator*(double s, const Tensor& x) { return affine_as("mul", x, s, 0); }
Tensor operator/(const Tensor& x, double s) {
  if (x.dtype() == kInt64) return affine_as("div", x.to(kFloat32), s, 0, true);  // true division
  return affine_as("div", x, s, 0, true);
}
Tensor operator/(double s, const Tensor& x) { return pow(x, -1) * s; }

}  // namespace tapegrad
