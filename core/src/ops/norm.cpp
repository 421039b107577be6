// The p-norm over dims (torch.norm / linalg.vector_norm). Its result is formed in the kept shape
// (reduce.h), so its backward is one elementwise formula in x, y and g.
// Legend: x the input; y the result; g its gradient. (Batch, layer and group normalisation are
// in batch_norm.cpp and layer_norm.cpp.)
#include <cmath>

#include "kernels/reduce.h"

namespace tapegrad {

namespace {
// norm's gradient in recorded ops (the formulas below, y recomputed), for create_graph.
template <typename T>
Tensor norm_graph(GraphCtx& c, const Shape& kept, double p, const Dims& dims) {
  const Tensor x = c.in(0), g = reshape(c.grad_out(), kept);
  const TensorImpl& xi = *c.node.inputs[0].t;
  if (std::isinf(p))  // the shares (constant) of sign(x) g among the ties
    return tie_shares<T, true>(xi, c.out(), kept,
                               [](const auto& xs, const auto& ys) {
                                 return (xs.abs() == ys || xs != xs).template cast<T>();
                               }) *
           expand(g, x.shape());
  if (p == 1) return sign(x) * g;
  const Tensor y = norm(x, p, dims, true), zero = eq(y, zeros_like(y));
  // 0 where y = 0, with y replaced there so that no branch divides by zero.
  const Tensor scale = masked_fill(g / pow(masked_fill(y, zero, 1.0), p - 1), zero, 0.0);
  if (p == 2) return x * scale;
  const Tensor x0 = eq(x, zeros_like(x));
  return sign(x) * masked_fill(pow(abs(masked_fill(x, x0, 1.0)), p - 1), x0, 0.0) * scale;
}
}  // namespace

// p finite:  y = (sum |x|^p)^(1/p).   dy/dx = sign(x) |x|^(p-1) / y^(p-1), 0 where y = 0 (p = 1:
//            sign(x); p < 1: also 0 where x = 0, as torch's).
// p = inf:   y = max |x|.   dy/dx = sign(x) m / count(m), m the elements with |x| = y (or NaN).
Tensor norm(const Tensor& x, double p, const Dims& dims, bool keepdim) {
  const TensorImpl& ix = impl_of(x, "norm");
  if (!(p > 0)) throw ValueError(msg("norm: p must be positive (or inf), got ", p));
  const ReducePlan plan = plan_reduce("norm", ix.shape, dims, keepdim);
  return dispatch_float(ix.dtype, "norm", [&]<typename T>() {
    ImplPtr y = make_zeros(plan.out, ix.dtype);
    const T* px = ix.data<T>();
    const T tp = static_cast<T>(p);
    if (std::isinf(p)) {
      const ImplPtr a = make_impl(ix.shape, ix.dtype);
      vec<T>(*a) = cvec<T>(ix).abs();
      extreme_into<T, true>(y->data<T>(), plan.kept, a->data<T>(), ix.shape);
      if (plan.count == 0) vec<T>(*y).setZero();  // an empty norm is 0
    } else if (p == 1) {
      sum_over(y->data<T>(), plan.kept, px, ix.shape, [](const auto& xs) { return xs.abs(); });
    } else if (p == 2) {
      sum_over(y->data<T>(), plan.kept, px, ix.shape, [](const auto& xs) { return xs.square(); });
      vec<T>(*y) = vec<T>(*y).sqrt();
    } else {
      sum_over(y->data<T>(), plan.kept, px, ix.shape,
               [tp](const auto& xs) { return xs.abs().pow(tp); });
      vec<T>(*y) = vec<T>(*y).pow(T(1) / tp);
    }
    return record(
        "norm", std::move(y), {x},
        ReadsOutput{WithGraph{
            [kept = plan.kept, p, tp](BackwardCtx& c) {
              TensorImpl* gx = c.grad_in(0);
              if (!gx) return;
              const TensorImpl& xi = c.in(0);
              const T *py = c.out().data<T>(), *pg = c.grad_out().data<T>();
              if (std::isinf(p)) {
                // Tied: |x| equal to the result, or NaN.
                tie_backward<T, true>(gx->data<T>(), xi.data<T>(), xi.shape, py, pg, kept,
                                      [](const auto& xs, const auto& ys) {
                                        return (xs.abs() == ys || xs != xs).template cast<T>();
                                      });
                return;
              }
              if (p == 1) {
                reduce_backward(
                    gx->data<T>(), xi.data<T>(), xi.shape, py, pg, kept,
                    [](const auto& xs, const auto&, const auto& gs) { return xs.sign() * gs; });
                return;
              }
              // scale = g / y^(p-1), 0 where y = 0; then gx += sign(x) |x|^(p-1) scale.
              const ImplPtr scale = make_impl(kept, xi.dtype);
              vec<T>(*scale) =
                  (cvec<T>(c.out()) == T(0))
                      .select(T(0), cvec<T>(c.grad_out()) / cvec<T>(c.out()).pow(tp - 1));
              if (p == 2)
                reduce_backward(
                    gx->data<T>(), xi.data<T>(), xi.shape, py, scale->data<T>(), kept,
                    [](const auto& xs, const auto&, const auto& ss) { return xs * ss; });
              else  // |x|^(p-1) is taken as 0 at x = 0, where p < 1 would make it infinite
                reduce_backward(gx->data<T>(), xi.data<T>(), xi.shape, py, scale->data<T>(), kept,
                                [tp](const auto& xs, const auto&, const auto& ss) {
                                  return xs.sign() *
                                         (xs == T(0)).select(T(0), xs.abs().pow(tp - 1)) * ss;
                                });
            },
            [kept = plan.kept, p, dims](GraphCtx& c) {
              if (c.needs(0)) c.add(0, norm_graph<T>(c, kept, p, dims));
            }}});
  });
}

}  // namespace tapegrad
