// Statistics over dims: logsumexp, var and std. Each result is formed in the kept
// shape (reduce.h), so each backward is one elementwise formula in x, y and g.
// Legend: x the input; y the result; g its gradient; N the elements behind each result.
#include <cmath>

#include "autograd/tape.h"
#include "kernels/broadcast.h"
#include "kernels/dispatch.h"
#include "kernels/reduce.h"

namespace tapegrad {

// y = m + log sum e^(x - m), m the maximum (0 where it is infinite, as torch's).
// dy/dx = e^(x - y).
Tensor logsumexp(const Tensor& x, const Dims& dims, bool keepdim) {
  const TensorImpl& ix = impl_of(x, "logsumexp");
  const ReducePlan p = plan_reduce("logsumexp", ix.shape, dims, keepdim);
  return dispatch_float(ix.dtype, "logsumexp", [&]<typename T>() {
    const ImplPtr m = make_impl(p.kept, ix.dtype);
    extreme_into<T, true>(m->data<T>(), p.kept, ix.data<T>(), ix.shape);
    auto mv = vec<T>(*m);
    mv = mv.isInf().select(T(0), mv);
    ImplPtr y = make_zeros(p.out, ix.dtype);
    sum_over(y->data<T>(), p.kept, ix.data<T>(), ix.shape, m->data<T>(),
             [](const auto& xs, const auto& ms) { return (xs - ms).exp(); });
    vec<T>(*y) = vec<T>(*y).log() + mv;
    return record("logsumexp", std::move(y), {x},
                  ReadsOutput{WithGraph{
                      [kept = p.kept](BackwardCtx& c) {
                        if (TensorImpl* gx = c.grad_in(0))
                          reduce_backward(gx->data<T>(), c.in(0).data<T>(), c.in(0).shape,
                                          c.out().data<T>(), c.grad_out().data<T>(), kept,
                                          [](const auto& xs, const auto& ys, const auto& gs) {
                                            return (xs - ys).exp() * gs;
                                          });
                      },
                      [kept = p.kept, dims](GraphCtx& c) {
                        if (!c.needs(0)) return;
                        const Tensor x = c.in(0);
                        c.add(0, reshape(c.grad_out(), kept) * exp(x - logsumexp(x, dims, true)));
                      }}});
  });
}

namespace {

// The variance (kStd: its square root) over the reduced dims. mean = sum x / N;
// var = sum (x - mean)^2 / max(0, N - correction).
// var: dy/dx = 2 (x - mean) / (N - correction).   std: dy/dx = (x - mean) / ((N - correction) y),
// 0 where y = 0 (torch's masked_fill: a constant's std has gradient 0, not 0/0).
template <bool kStd>
Tensor variance(const char* op, const Tensor& x, const Dims& dims, double correction,
                bool keepdim) {
  const TensorImpl& ix = impl_of(x, op);
  if (!std::isfinite(correction))
    throw ValueError(msg(op, ": correction must be finite, got ", correction));
  const ReducePlan p = plan_reduce(op, ix.shape, dims, keepdim);
  return dispatch_float(ix.dtype, op, [&]<typename T>() {
    const ImplPtr mean = make_zeros(p.kept, ix.dtype);
    sum_into(mean->data<T>(), p.kept, ix.data<T>(), ix.shape);
    vec<T>(*mean) /= static_cast<T>(p.count);
    ImplPtr y = make_zeros(p.out, ix.dtype);
    sum_over(y->data<T>(), p.kept, ix.data<T>(), ix.shape, mean->data<T>(),
             [](const auto& xs, const auto& ms) { return (xs - ms).square(); });
    const double n_minus_c = static_cast<double>(p.count) - correction;
    vec<T>(*y) /= static_cast<T>(std::max(0.0, n_minus_c));
    if constexpr (kStd) vec<T>(*y) = vec<T>(*y).sqrt();
    // The recorded form: var's gx = g 2 (x - mean) / d, std's gx = g (x - mean) / (d y), with
    // the mean (and std's y) recomputed in recorded ops.
    // (Captures by copy: std's uses op, dims and correction, var's does not.)
    auto graph = [=, kept = p.kept, count = static_cast<double>(p.count)](GraphCtx& c) {
      if (!c.needs(0)) return;
      const Tensor x = c.in(0), g = reshape(c.grad_out(), kept);
      const Tensor centered = x - sum_to(x, kept) * (1.0 / count);
      if constexpr (kStd) {
        // g / y, 0 where y = 0, with y replaced there so that no branch divides by zero.
        const Tensor y = variance<true>(op, x, dims, correction, true), zero = eq(y, zeros_like(y));
        c.add(0,
              masked_fill(g / masked_fill(y, zero, 1.0), zero, 0.0) * centered * (1.0 / n_minus_c));
      } else
        c.add(0, g * centered * (2.0 / n_minus_c));
    };
    auto closure = WithGraph{
        [kept = p.kept, mean, n_minus_c](BackwardCtx& c) {
          TensorImpl* gx = c.grad_in(0);
          if (!gx) return;
          const TensorImpl& xi = c.in(0);
          const T d = static_cast<T>(n_minus_c);
          // The mean broadcasts through y's slot: reduce_backward pairs x with one kept
          // tensor.
          const T* pm = mean->data<T>();
          if constexpr (kStd) {
            // g / y first (kept shape), then gx += (x - mean) g / (y d).
            const ImplPtr gy = make_impl(kept, xi.dtype);
            vec<T>(*gy) =
                (cvec<T>(c.out()) == T(0)).select(T(0), cvec<T>(c.grad_out()) / cvec<T>(c.out()));
            reduce_backward(
                gx->data<T>(), xi.data<T>(), xi.shape, pm, gy->data<T>(), kept,
                [d](const auto& xs, const auto& ms, const auto& gs) { return (xs - ms) * gs / d; });
          } else {
            reduce_backward(gx->data<T>(), xi.data<T>(), xi.shape, pm, c.grad_out().data<T>(), kept,
                            [d](const auto& xs, const auto& ms, const auto& gs) {
                              return (xs - ms) * gs * (T(2) / d);
                            });
          }
        },
        std::move(graph)};
    // std's gradient divides by y; var's never reads it.
    return record(op, std::move(y), {x}, reads_output_if<kStd>(std::move(closure)));
  });
}

}  // namespace

Tensor var(const Tensor& x, const Dims& dims, double correction, bool keepdim) {
  return variance<false>("var", x, dims, correction, keepdim);
}
Tensor std(const Tensor& x, const Dims& dims, double correction, bool keepdim) {
  return variance<true>("std", x, dims, correction, keepdim);
}

}  // namespace tapegrad
