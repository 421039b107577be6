// Shared machinery of the broadcasting binary ops (arithmetic and comparisons).
#pragma once
#include <utility>

#include "kernels.h"
#include "tapegrad/core/ops.h"

namespace tapegrad {

/// The pair converted to their common dtype (int64 < float32 < float64), as PyTorch promotes.
std::pair<Tensor, Tensor> promote(const char* op, const Tensor& a, const Tensor& b);

/// y = f(a, b) with a and b broadcast to y's shape; f takes two Eigen array expressions of
/// equal length (a broadcast operand arrives as a Constant).
template <typename T, typename F>
void broadcast_binary(const TensorImpl& a, const TensorImpl& b, TensorImpl& y, F f) {
  using Map = Eigen::Map<ArrayX<T>>;
  using CMap = Eigen::Map<const ArrayX<T>>;
  if (y.numel == 0) return;
  if (a.shape == b.shape) {  // the common case: one flat loop, split across threads
    parallel_chunks(y.numel, [&](std::int64_t s, std::int64_t e) {
      Map(y.data<T>() + s, e - s) = f(CMap(a.data<T>() + s, e - s), CMap(b.data<T>() + s, e - s));
    });
    return;
  }
  const T *pa = a.data<T>(), *pb = b.data<T>();
  for_each_run(plan_broadcast(y.shape, a.shape, b.shape),
               [&](std::int64_t o, std::int64_t ia, std::int64_t ib, std::int64_t n,
                   std::int64_t sa, std::int64_t sb) {
                 Map ys(y.data<T>() + o, n);
                 if (sa && sb)
                   ys = f(CMap(pa + ia, n), CMap(pb + ib, n));
                 else if (sa)
                   ys = f(CMap(pa + ia, n), ArrayX<T>::Constant(n, pb[ib]));
                 else if (sb)
                   ys = f(ArrayX<T>::Constant(n, pa[ia]), CMap(pb + ib, n));
                 else
                   ys = f(ArrayX<T>::Constant(n, pa[ia]), ArrayX<T>::Constant(n, pb[ib]));
               });
}

}  // namespace tapegrad
