// Broadcasting arithmetic (+ - * /) and the scalar forms built on affine().
// Legend: a, b inputs broadcast to y; ga, gb their gradients; g the gradient of y.
// The gradient of a broadcast input is g (times the local derivative) summed back to its shape.
#include "elementwise.h"
#include "tapegrad/core/autograd.h"

namespace tapegrad {

std::pair<Tensor, Tensor> promote(const char* op, const Tensor& a, const Tensor& b) {
  const Dtype da = impl_of(a, op).dtype, db = impl_of(b, op).dtype;
  if (da == db) return {a, b};
  auto rank = [](Dtype d) { return d == kInt64 ? 0 : d == kFloat32 ? 1 : 2; };
  const Dtype d = rank(da) > rank(db) ? da : db;
  return {a.to(d), b.to(d)};
}

namespace {

enum class Arith { Add, Sub, Mul, Div };

// ga (shape of a) += local(g, other) summed over a's broadcast dims. Same shapes skip the
// temporary; otherwise the product is formed at y's shape and then reduced.
template <typename T, typename F>
void reduce_grad(TensorImpl& ga, const TensorImpl& g, const TensorImpl& a_like,
                 const TensorImpl& other, F local) {
  if (ga.shape == g.shape && other.shape == g.shape) {
    auto gv = cvec<T>(g), ov = cvec<T>(other);
    auto gav = vec<T>(ga);
    parallel_chunks(g.numel, [&](std::int64_t s, std::int64_t e) {
      gav.segment(s, e - s) += local(gv.segment(s, e - s), ov.segment(s, e - s));
    });
    return;
  }
  ImplPtr tmp = make_impl(g.shape, g.dtype);
  broadcast_binary<T>(g, other, *tmp, local);
  sum_into(ga.data<T>(), a_like.shape, tmp->data<T>(), tmp->shape);
}

template <Arith K>
Tensor arith(const char* op, const Tensor& a0, const Tensor& b0) {
  auto [a, b] = promote(op, a0, b0);
  const TensorImpl &ia = *a.impl(), &ib = *b.impl();
  if (K == Arith::Div) check_floating(op, ia);
  ImplPtr y = make_impl(broadcast_shapes(op, ia.shape, ib.shape), ia.dtype);
  return dispatch_all(ia.dtype, [&]<typename T>() {
    broadcast_binary<T>(ia, ib, *y, [](const auto& x, const auto& z) {
      if constexpr (K == Arith::Add) return (x + z);
      if constexpr (K == Arith::Sub) return (x - z);
      if constexpr (K == Arith::Mul) return (x * z);
      if constexpr (K == Arith::Div) return (x / z);
    });
    if constexpr (!std::is_floating_point_v<T>) {
      return Tensor(y);
    } else {
      return record(op, y, {a, b}, [](BackwardCtx& c) {
        const TensorImpl& g = c.grad_out();
        const TensorImpl &xa = c.in(0), &xb = c.in(1);
        if (TensorImpl* ga = c.grad_in(0)) {
          if constexpr (K == Arith::Add || K == Arith::Sub)
            sum_into(ga->data<T>(), ga->shape, g.data<T>(), g.shape);
          if constexpr (K == Arith::Mul)  // d(ab)/da = b
            reduce_grad<T>(*ga, g, xa, xb, [](const auto& gg, const auto& bb) { return (gg * bb); });
          if constexpr (K == Arith::Div)  // d(a/b)/da = 1/b
            reduce_grad<T>(*ga, g, xa, xb, [](const auto& gg, const auto& bb) { return (gg / bb); });
        }
        if (TensorImpl* gb = c.grad_in(1)) {
          if constexpr (K == Arith::Add) sum_into(gb->data<T>(), gb->shape, g.data<T>(), g.shape);
          if constexpr (K == Arith::Sub)  // d(a-b)/db = -1
            reduce_grad<T>(*gb, g, xb, g, [](const auto& gg, const auto&) { return (-gg); });
          if constexpr (K == Arith::Mul)
            reduce_grad<T>(*gb, g, xb, xa, [](const auto& gg, const auto& aa) { return (gg * aa); });
          if constexpr (K == Arith::Div) {  // d(a/b)/db = -a/b^2 = -(a/b)/b: reuse y
            ImplPtr gy = make_impl(g.shape, g.dtype);
            broadcast_binary<T>(g, c.out(), *gy, [](const auto& gg, const auto& yy) { return (gg * yy); });
            reduce_grad<T>(*gb, *gy, xb, xb, [](const auto& q, const auto& bb) { return (-q / bb); });
          }
        }
      });
    }
  });
}

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) { return arith<Arith::Add>("add", a, b); }
Tensor sub(const Tensor& a, const Tensor& b) { return arith<Arith::Sub>("sub", a, b); }
Tensor mul(const Tensor& a, const Tensor& b) { return arith<Arith::Mul>("mul", a, b); }
Tensor div(const Tensor& a, const Tensor& b) { return arith<Arith::Div>("div", a, b); }

// y = a x + b with scalars a, b.   dy/dx = a.
Tensor affine(const Tensor& x0, double a, double b) {
  const TensorImpl& ix0 = impl_of(x0, "affine");
  // An int64 tensor stays int64 only under integer scalars, as in PyTorch.
  const bool to_float = ix0.dtype == kInt64 && (a != std::floor(a) || b != std::floor(b));
  Tensor x = to_float ? x0.to(kFloat32) : x0;
  const TensorImpl& ix = *x.impl();
  return dispatch_all(ix.dtype, [&]<typename T>() {
    const T ta = static_cast<T>(a), tb = static_cast<T>(b);
    ImplPtr y = map_unary<T>(ix, [&](const auto& v) { return (v * ta + tb); });
    if constexpr (!std::is_floating_point_v<T>) {
      return Tensor(y);
    } else {
      return record("affine", y, {x}, [ta](BackwardCtx& c) {
        if (TensorImpl* gx = c.grad_in(0)) vec<T>(*gx) += ta * cvec<T>(c.grad_out());
      });
    }
  });
}

Tensor neg(const Tensor& x) { return affine(x, -1, 0); }

Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator-(const Tensor& x) { return neg(x); }
Tensor operator+(const Tensor& x, double s) { return affine(x, 1, s); }
Tensor operator+(double s, const Tensor& x) { return affine(x, 1, s); }
Tensor operator-(const Tensor& x, double s) { return affine(x, 1, -s); }
Tensor operator-(double s, const Tensor& x) { return affine(x, -1, s); }
Tensor operator*(const Tensor& x, double s) { return affine(x, s, 0); }
Tensor operator*(double s, const Tensor& x) { return affine(x, s, 0); }
Tensor operator/(const Tensor& x, double s) {
  if (x.dtype() == kInt64) return affine(x.to(kFloat32), 1 / s, 0);  // true division
  return affine(x, 1 / s, 0);
}
Tensor operator/(double s, const Tensor& x) { return pow(x, -1) * s; }

}  // namespace tapegrad
