// Shared machinery of the reductions over several dims (amax, logsumexp, var, norm, ...): the
// plan that names the kept shape, and the walk that pairs each element of x with its result.
// Results are computed in the kept shape (x's shape with the reduced dims at 1), which
// broadcasts back over x, so every backward is an elementwise formula in x, y and g.
#pragma once
#include <algorithm>
#include <limits>

#include "kernels/broadcast.h"
#include "kernels/dispatch.h"
#include "kernels/elementwise.h"
#include "tapegrad/core/ops.h"

namespace tapegrad {

struct ReducePlan {
  Shape kept;              ///< x's shape with the reduced dims at size 1
  Shape out;               ///< the result's shape: kept, or kept without those dims
  std::int64_t count = 1;  ///< elements of x behind each result
};
/// Checks dims against x's rank (in range, none twice; none given means all) and plans the
/// reduction; throws ValueError naming op.
ReducePlan plan_reduce(const char* op, const Shape& x, const Dims& dims, bool keepdim);

/// Calls f(o, k, n, along) for each run of n elements of x (shape xs) starting at flat offset
/// o, whose results (in the kept shape) start at k: at k + j for element j when `along` (the
/// run crosses kept elements), all at k otherwise (the run is reduced into one).
template <typename F>
void for_each_reduced_run(const Shape& xs, const Shape& kept, F&& f) {
  if (shape_numel(xs) == 0) return;
  for_each_run(plan_broadcast(xs, kept, xs),
               [&](std::int64_t o, std::int64_t k, std::int64_t, std::int64_t n, std::int64_t sk,
                   std::int64_t) { f(o, k, n, sk == 1); });
}

/// gx += d(xs, ys, gs) over x, where xs is a run of x and ys, gs the results and their
/// gradient paired with it: arrays when the run crosses results, scalars when it reduces into
/// one. d is a generic lambda, instantiated for both.
template <typename T, typename D>
void reduce_backward(T* gx, const T* x, const Shape& xs, const T* y, const T* g, const Shape& kept,
                     D d) {
  using CMap = Eigen::Map<const ArrayX<T>>;
  for_each_reduced_run(xs, kept, [&](std::int64_t o, std::int64_t k, std::int64_t n, bool along) {
    Eigen::Map<ArrayX<T>> gr(gx + o, n);
    if (along)
      gr += d(CMap(x + o, n), CMap(y + k, n), CMap(g + k, n));
    else
      gr += d(CMap(x + o, n), y[k], g[k]);
  });
}

/// s (kept shape) += f(x run, y run or scalar) summed over the reduced dims, y a kept-shape
/// tensor: the forward pass of the statistics in ops/stats.cpp and ops/norm.cpp, and the tie counts
/// below. f is a generic lambda, as in reduce_backward.
template <typename T, typename F>
void sum_over(T* s, const Shape& kept, const T* x, const Shape& xs, const T* y, F f) {
  using CMap = Eigen::Map<const ArrayX<T>>;
  for_each_reduced_run(xs, kept, [&](std::int64_t o, std::int64_t k, std::int64_t n, bool along) {
    if (along)
      Eigen::Map<ArrayX<T>>(s + k, n) += f(CMap(x + o, n), CMap(y + k, n));
    else
      s[k] += f(CMap(x + o, n), y[k]).sum();
  });
}

/// s (kept shape) += f(x run) summed over the reduced dims.
template <typename T, typename F>
void sum_over(T* s, const Shape& kept, const T* x, const Shape& xs, F f) {
  using CMap = Eigen::Map<const ArrayX<T>>;
  for_each_reduced_run(xs, kept, [&](std::int64_t o, std::int64_t k, std::int64_t n, bool along) {
    if (along)
      Eigen::Map<ArrayX<T>>(s + k, n) += f(CMap(x + o, n));
    else
      s[k] += f(CMap(x + o, n)).sum();
  });
}

/// The backward of an extreme over the reduced dims: each result's gradient shared evenly by
/// the elements tied with it, gx += s(x) g / count(tie) tie(x, y). tie(xs, ys) maps a run of x
/// and its results (an array, or a scalar for a run reduced into one) to 1 where tied, else 0;
/// s is sign(x) when kSigned (the inf-norm, max |x|), else 1 (amax).
template <typename T, bool kSigned, typename Tie>
void tie_backward(T* gx, const T* x, const Shape& xs, const T* y, const T* g, const Shape& kept,
                  Tie tie) {
  ArrayX<T> share = ArrayX<T>::Zero(shape_numel(kept));  // count(tie), then g / count(tie)
  sum_over(share.data(), kept, x, xs, y, tie);
  share = Eigen::Map<const ArrayX<T>>(g, share.size()) / share;
  reduce_backward(gx, x, xs, y, share.data(), kept,
                  [&](const auto& xr, const auto& yr, const auto& gr) {
                    if constexpr (kSigned)
                      return xr.sign() * gr * tie(xr, yr);
                    else
                      return gr * tie(xr, yr);
                  });
}

/// tie_backward's shares as a tensor of x's shape, s(x) tie(x, y) / count(tie): what an
/// extreme's recorded gradient multiplies g by (a constant: ties do not move with x).
template <typename T, bool kSigned, typename Tie>
Tensor tie_shares(const TensorImpl& x, const TensorImpl& y, const Shape& kept, Tie tie) {
  ImplPtr w = make_zeros(x.shape, x.dtype);
  const ArrayX<T> ones = ArrayX<T>::Ones(shape_numel(kept));
  tie_backward<T, kSigned>(w->data<T>(), x.data<T>(), x.shape, y.data<T>(), ones.data(), kept, tie);
  return Tensor(w);
}

/// y (kept shape) = the largest (kMax) or smallest element of x over the reduced dims, NaN
/// where any is NaN; an empty reduction leaves the identity (-inf or +inf, int64's extremes).
template <typename T, bool kMax>
void extreme_into(T* y, const Shape& kept, const T* x, const Shape& xs) {
  using Lim = std::numeric_limits<T>;
  const T start = kMax ? (Lim::has_infinity ? -Lim::infinity() : Lim::lowest())
                       : (Lim::has_infinity ? Lim::infinity() : Lim::max());
  std::fill(y, y + shape_numel(kept), start);
  for_each_reduced_run(xs, kept, [&](std::int64_t o, std::int64_t k, std::int64_t n, bool along) {
    Eigen::Map<const ArrayX<T>> xr(x + o, n);
    if (along) {
      Eigen::Map<ArrayX<T>> yr(y + k, n);
      if constexpr (kMax)
        yr = max_nan(yr, xr);
      else
        yr = min_nan(yr, xr);
    } else if (y[k] == y[k]) {  // once NaN, stays NaN
      if (xr.hasNaN())
        y[k] = std::numeric_limits<T>::quiet_NaN();
      else
        y[k] = kMax ? std::max(y[k], xr.maxCoeff()) : std::min(y[k], xr.minCoeff());
    }
  });
}

}  // namespace tapegrad
