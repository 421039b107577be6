// Kernel toolkit: Eigen maps over tensor storage, dtype dispatch, OpenMP chunking and the
// broadcast iterator. The only place that turns a runtime Dtype into a C++ type.
// Legend: B batch size, n elements along the reduced/softmax dim; gx, gy gradients.
#pragma once
#include <omp.h>

#include <Eigen/Core>
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "check.h"
#include "team.h"
#include "tensor_impl.h"

namespace tapegrad {

template <typename T>
using ArrayX = Eigen::Array<T, Eigen::Dynamic, 1>;
template <typename T>
using MatrixRM = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// The whole tensor as a flat Eigen array.
template <typename T>
Eigen::Map<ArrayX<T>> vec(TensorImpl& t) {
  return {t.data<T>(), t.numel};
}
template <typename T>
Eigen::Map<const ArrayX<T>> cvec(const TensorImpl& t) {
  return {t.data<T>(), t.numel};
}
/// The tensor viewed as a row-major (rows x cols) matrix: one sample per row, no copy.
template <typename T>
Eigen::Map<MatrixRM<T>> mat(TensorImpl& t, std::int64_t rows, std::int64_t cols) {
  return {t.data<T>(), rows, cols};
}
template <typename T>
Eigen::Map<const MatrixRM<T>> cmat(const TensorImpl& t, std::int64_t rows, std::int64_t cols) {
  return {t.data<T>(), rows, cols};
}

/// Calls f.template operator()<T>() with T = float or double; throws for int64.
template <typename F>
decltype(auto) dispatch_float(Dtype d, const char* op, F&& f) {
  switch (d) {
    case Dtype::Float32: return f.template operator()<float>();
    case Dtype::Float64: return f.template operator()<double>();
    default:
      throw ValueError(msg(op, ": needs a floating-point tensor: got ", dtype_name(d),
                           "; convert with .to(kFloat32)"));
  }
}
/// Same, with std::int64_t too.
template <typename F>
decltype(auto) dispatch_all(Dtype d, F&& f) {
  switch (d) {
    case Dtype::Float32: return f.template operator()<float>();
    case Dtype::Float64: return f.template operator()<double>();
    default: return f.template operator()<std::int64_t>();
  }
}

/// A double argument as element type T. int64 truncates toward zero as PyTorch does, after a
/// check that the value is finite and in range (throws naming op); float types round.
template <typename T>
T element_from_double(double v, const char* op) {
  if constexpr (std::is_same_v<T, std::int64_t>)
    return checked_int64(std::trunc(v), op);
  else
    return static_cast<T>(v);
}

/// Below this many elements a loop runs on the calling thread: starting threads costs more.
inline constexpr std::int64_t kParallelMin = 1 << 15;

/// Splits [0, n) into contiguous chunks and calls f(begin, end) on each, on as many threads as
/// detail::team_threads() gives. Runs f(0, n) on the calling thread when n * cost (elements
/// touched) is too small to pay for threads, or when nested in split work (an op splitting its
/// own work across threads). Chunk bounds depend on n and the thread cap alone, never on the
/// team, so results are the same bits however many threads ran; chunks are handed out in turn,
/// so a thread that starts early takes a late one's. (Four chunks per thread measured the same
/// as one on B1 and B4.) Chunks never overlap: each output element is written by one thread.
template <typename F>
void parallel_chunks(std::int64_t n, F&& f, std::int64_t cost = 1) {
  if (n * cost < kParallelMin || n < 2 || detail::thread_cap() == 1 || detail::nested()) {
    f(std::int64_t{0}, n);
    return;
  }
  const std::int64_t cap = detail::thread_cap();
  const std::int64_t pieces = std::min(n, cap);
  std::int64_t chunk = (n + pieces - 1) / pieces;
  if (cost == 1) chunk = (chunk + 15) / 16 * 16;  // whole SIMD blocks for flat loops
  const std::int64_t chunks = (n + chunk - 1) / chunk;
  const int team = static_cast<int>(std::min<std::int64_t>(detail::team_threads(), chunks));
#pragma omp parallel for schedule(dynamic, 1) num_threads(team) if (team > 1)
  for (std::int64_t k = 0; k < chunks; ++k) {
    const detail::ChunkScope scope;
    f(k * chunk, std::min(n, (k + 1) * chunk));
  }
}

/// y = f(x) elementwise into a fresh tensor of x's shape; f maps an Eigen array segment.
template <typename T, typename F>
ImplPtr map_unary(const TensorImpl& x, F f) {
  ImplPtr y = make_impl(x.shape, x.dtype);
  auto xv = cvec<T>(x);
  auto yv = vec<T>(*y);
  parallel_chunks(x.numel, [&](std::int64_t b, std::int64_t e) {
    yv.segment(b, e - b) = f(xv.segment(b, e - b));
  });
  return y;
}

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

/// Row-major strides (in elements) of a shape.
inline std::vector<std::int64_t> row_major_strides(const Shape& s) {
  std::vector<std::int64_t> st(s.size(), 1);
  for (std::size_t d = s.size(); d-- > 1;) st[d - 1] = st[d] * s[d];
  return st;
}

/// Sizes before, along and after dim: a tensor seen as (outer, n, inner).
struct Split3 {
  std::int64_t outer = 1, n = 1, inner = 1;
};
Split3 split_at(const Shape& s, std::int64_t dim);

/// True when any element is NaN or Inf (anomaly mode).
bool has_non_finite(const TensorImpl& t);

/// The scalar v in the element type of Eigen expression e (Eigen never mixes float and double).
template <typename E>
typename E::Scalar scalar_like(const E&, double v) {
  return static_cast<typename E::Scalar>(v);
}

/// e, but NaN where a or b is: a + b is NaN there. b may be an array or a scalar (a NaN scalar
/// is refused by callers).
template <typename A, typename B, typename E>
auto nan_or(const A& a, const B& b, const E& e) {
  if constexpr (std::is_arithmetic_v<B>)
    return (a != a).select(a, e);
  else
    return (a != a || b != b).select(a + b, e);
}
/// max(a, b) and min(a, b) that are NaN where either operand is, as torch's (Eigen 3.4.0's own
/// leave NaN unspecified).
template <typename A, typename B>
auto max_nan(const A& a, const B& b) {
  return nan_or(a, b, a.max(b));
}
template <typename A, typename B>
auto min_nan(const A& a, const B& b) {
  return nan_or(a, b, a.min(b));
}

/// A float op of one input, elementwise: y = fwd(x) and gx += bwd(g, x, y), each given Eigen
/// array segments. The backward is split across threads like the forward.
template <typename Fwd, typename Bwd>
Tensor unary_op(const char* op, const Tensor& x, Fwd fwd, Bwd bwd) {
  const TensorImpl& ix = impl_of(x, op);
  return dispatch_float(ix.dtype, op, [&]<typename T>() {
    ImplPtr y = map_unary<T>(ix, fwd);
    return record(op, std::move(y), {x}, [bwd](BackwardCtx& c) {
      // gx = bwd(g) written over g itself when the buffer can be handed down, else gx += bwd(g).
      TensorImpl* gx = c.steal_grad_out(0);
      const bool in_place = gx != nullptr;
      if (!in_place) gx = c.grad_in(0);
      if (!gx) return;
      auto g = cvec<T>(c.grad_out()), xv = cvec<T>(c.in(0)), yv = cvec<T>(c.out());
      auto gxv = vec<T>(*gx);
      parallel_chunks(gx->numel, [&](std::int64_t b, std::int64_t e) {
        const std::int64_t n = e - b;
        if (in_place)
          gxv.segment(b, n) = bwd(g.segment(b, n), xv.segment(b, n), yv.segment(b, n));
        else
          gxv.segment(b, n) += bwd(g.segment(b, n), xv.segment(b, n), yv.segment(b, n));
      });
    });
  });
}

}  // namespace tapegrad
