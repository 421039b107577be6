// Extrema: of two tensors elementwise (maximum, minimum, broadcasting), and over dims (amax,
// amin, and max / min of a whole tensor).
// Legend: a, b inputs broadcast to y; x an input reduced to y; g the gradient of y.
#include "autograd/tape.h"
#include "kernels/dispatch.h"
#include "kernels/elementwise.h"
#include "kernels/reduce.h"

namespace tapegrad {

namespace {
// The recorded form of an elementwise extreme's gradient for one input: g, halved where x == z
// and 0 where x < z. maximum's a passes (a, b), minimum's a (b, a): 0 where a loses.
Tensor winner_share(const Tensor& g, const Tensor& x, const Tensor& z) {
  return where(eq(x, z), g * 0.5, masked_fill(g, lt(x, z), 0.0));
}
}  // namespace

// y = max(a, b), NaN if either is.   dy/da = 1 where a > b, 1/2 where a == b, else 0 (and 1
// where a or b is NaN, as torch's where(a == b, g / 2, g).masked_fill_(a < b, 0)).
Tensor maximum(const Tensor& a, const Tensor& b) {
  return binary_op(
      "maximum", a, b, [](const auto& x, const auto& z) { return max_nan(x, z); },
      [](const auto& g, const auto& x, const auto& z) {
        return (x == z).select(g * scalar_like(g, 0.5), (x < z).select(scalar_like(g, 0), g));
      },
      [](const auto& g, const auto& x, const auto& z) {
        return (x == z).select(g * scalar_like(g, 0.5), (x > z).select(scalar_like(g, 0), g));
      },
      [](const Tensor& g, const Tensor& x, const Tensor& z) { return winner_share(g, x, z); },
      [](const Tensor& g, const Tensor& x, const Tensor& z) { return winner_share(g, z, x); });
}

// y = min(a, b), NaN if either is.   dy/da = 1 where a < b, 1/2 where a == b, else 0.
Tensor minimum(const Tensor& a, const Tensor& b) {
  return binary_op(
      "minimum", a, b, [](const auto& x, const auto& z) { return min_nan(x, z); },
      [](const auto& g, const auto& x, const auto& z) {
        return (x == z).select(g * scalar_like(g, 0.5), (x > z).select(scalar_like(g, 0), g));
      },
      [](const auto& g, const auto& x, const auto& z) {
        return (x == z).select(g * scalar_like(g, 0.5), (x < z).select(scalar_like(g, 0), g));
      },
      [](const Tensor& g, const Tensor& x, const Tensor& z) { return winner_share(g, z, x); },
      [](const Tensor& g, const Tensor& x, const Tensor& z) { return winner_share(g, x, z); });
}

namespace {

// How ties at the extreme share the gradient: amax's over the elements equal to y (NaN equals
// nothing, so a NaN result sends NaN, as torch's), or max()'s, where a NaN result is shared by
// the NaN elements.
enum class Ties { Equal, NanShares };

// y = the largest (kMax) or smallest element over the reduced dims, NaN if any is.
// dy/dx = m / count(m) with m the elements that tie with y, per result.
template <bool kMax, Ties kTies>
Tensor extreme_over(const char* op, const Tensor& x, const Dims& dims, bool keepdim) {
  const TensorImpl& ix = impl_of(x, op);
  const ReducePlan p = plan_reduce(op, ix.shape, dims, keepdim);
  if (p.count == 0)
    throw ValueError(
        msg(op, ": cannot reduce over an empty dim (shape ", shape_str(ix.shape), ")"));
  return dispatch_all(ix.dtype, [&]<typename T>() {
    ImplPtr y = make_impl(p.out, ix.dtype);
    extreme_into<T, kMax>(y->data<T>(), p.kept, ix.data<T>(), ix.shape);
    if constexpr (!std::is_floating_point_v<T>) {
      return Tensor(y);
    } else {
      // Tied: equal to the result (and, for a NaN max(), NaN beside a NaN result).
      auto tie = [](const auto& xs, const auto& ys) {
        if constexpr (std::is_arithmetic_v<std::decay_t<decltype(ys)>>)
          return xs.unaryExpr([y = ys](T v) {
            return T(v == y || (kTies == Ties::NanShares && v != v && y != y));
          });
        else
          return (xs == ys).template cast<T>();
      };
      return record(
          op, std::move(y), {x},
          ReadsOutput{WithGraph{[kept = p.kept, tie](BackwardCtx& c) {
                                  TensorImpl* gx = c.grad_in(0);
                                  if (!gx) return;
                                  const TensorImpl& xi = c.in(0);
                                  tie_backward<T, false>(gx->data<T>(), xi.data<T>(), xi.shape,
                                                         c.out().data<T>(), c.grad_out().data<T>(),
                                                         kept, tie);
                                },
                                [kept = p.kept, tie](GraphCtx& c) {
                                  // The shares do not depend on x (as torch's): only g is recorded.
                                  if (!c.needs(0)) return;
                                  const TensorImpl& xi = *c.node.inputs[0].t;
                                  c.add(0, tie_shares<T, false>(xi, c.out(), kept, tie) *
                                               expand(reshape(c.grad_out(), kept), xi.shape));
                                }}});
    }
  });
}

}  // namespace

Tensor amax(const Tensor& x, const Dims& dims, bool keepdim) {
  return extreme_over<true, Ties::Equal>("amax", x, dims, keepdim);
}
Tensor amin(const Tensor& x, const Dims& dims, bool keepdim) {
  return extreme_over<false, Ties::Equal>("amin", x, dims, keepdim);
}
Tensor max(const Tensor& x) { return extreme_over<true, Ties::NanShares>("max", x, {}, false); }
Tensor min(const Tensor& x) { return extreme_over<false, Ties::NanShares>("min", x, {}, false); }

}  // namespace tapegrad
