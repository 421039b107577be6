// Broadcasting (NumPy's rules): the plan that merges dims into runs, the iterator over those
// runs, and the two directions a gradient crosses a broadcast: sum_into reduces a gradient to
// an input's shape, expand_into is its transpose.
#pragma once
#include <Eigen/Core>
#include <cstdint>
#include <vector>

#include "kernels/dispatch.h"
#include "runtime/parallel_chunks.h"

namespace tapegrad {

/// Broadcast iteration. For output shape `out` and an operand shape `a` (and `b`) that
/// broadcast to it, calls f(o, ia, ib, n, sa, sb) once per innermost run of n output elements
/// starting at flat offset o, where the operands start at ia / ib and step by sa / sb (1, or 0
/// when broadcast along the run). Adjacent dims are merged first, so same-shape operands give a
/// single run and a row broadcast gives one run per row.
struct BroadcastPlan {
  std::vector<std::int64_t> size, sa, sb;  // merged dims, outermost first
};
BroadcastPlan plan_broadcast(const Shape& out, const Shape& a, const Shape& b);

template <typename F>
void for_each_run(const BroadcastPlan& p, F&& f) {
  const std::size_t r = p.size.size();
  const std::int64_t n = p.size[r - 1], sa = p.sa[r - 1], sb = p.sb[r - 1];
  std::vector<std::int64_t> idx(r, 0);
  std::int64_t o = 0, ia = 0, ib = 0;
  while (true) {
    f(o, ia, ib, n, sa, sb);
    o += n;
    std::size_t d = r - 1;  // advance the outer counters like an odometer
    while (d-- > 0) {
      ia += p.sa[d];
      ib += p.sb[d];
      if (++idx[d] < p.size[d]) break;
      ia -= p.sa[d] * p.size[d];
      ib -= p.sb[d] * p.size[d];
      idx[d] = 0;
    }
    if (d == static_cast<std::size_t>(-1)) return;
  }
}

/// NumPy's broadcast of two shapes; throws ShapeError naming op.
Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b);

/// dst (shape dst_shape) += src (shape src_shape) summed over the dims dst broadcasts along:
/// the backward of broadcasting, and sum along dims.
template <typename T>
void sum_into(T* dst, const Shape& dst_shape, const T* src, const Shape& src_shape) {
  if (shape_numel(src_shape) == 0) return;
  if (dst_shape == src_shape || shape_numel(dst_shape) == shape_numel(src_shape)) {
    const std::int64_t n = shape_numel(src_shape);
    Eigen::Map<ArrayX<T>> d(dst, n);
    Eigen::Map<const ArrayX<T>> s(src, n);
    parallel_chunks(
        n, [&](std::int64_t b, std::int64_t e) { d.segment(b, e - b) += s.segment(b, e - b); });
    return;
  }
  for_each_run(plan_broadcast(src_shape, dst_shape, src_shape),
               [&](std::int64_t o, std::int64_t id, std::int64_t, std::int64_t n, std::int64_t sd,
                   std::int64_t) {
                 Eigen::Map<const ArrayX<T>> s(src + o, n);
                 if (sd == 1)
                   Eigen::Map<ArrayX<T>>(dst + id, n) += s;
                 else
                   dst[id] += s.sum();
               });
}

/// dst += src for any float dtype, src summed down to dst's shape where dst broadcasts (the
/// common gradient accumulation: into a leaf's grad, through a reshape or a clone).
void add_into(TensorImpl& dst, const TensorImpl& src);

/// dst (shape dst_shape) += src / divisor broadcast up to dst_shape: the backward of a sum
/// over dims (divisor 1) and of a mean (divisor the count, divided as PyTorch's mean does).
template <typename T>
void expand_into(T* dst, const Shape& dst_shape, const T* src, const Shape& src_shape,
                 T divisor = T(1)) {
  if (shape_numel(dst_shape) == 0) return;
  for_each_run(plan_broadcast(dst_shape, src_shape, dst_shape),
               [&](std::int64_t o, std::int64_t is, std::int64_t, std::int64_t n, std::int64_t ss,
                   std::int64_t) {
                 Eigen::Map<ArrayX<T>> d(dst + o, n);
                 if (ss != 1)
                   d += src[is] / divisor;
                 else if (divisor == T(1))
                   d += Eigen::Map<const ArrayX<T>>(src + is, n);
                 else
                   d += Eigen::Map<const ArrayX<T>>(src + is, n) / divisor;
               });
}

}  // namespace tapegrad
