// softmax and log_softmax along a dim. Rows are seen as (outer, n, inner): n values along dim,
// `inner` apart in memory.
#include "autograd/tape.h"
#include "kernels/dispatch.h"
#include "kernels/layout.h"
#include "kernels/softmax_row.h"
#include "runtime/parallel_chunks.h"
#include "tapegrad/core/ops.h"
#include "tensor/check.h"

namespace tapegrad {

namespace {

template <typename T>
using Strided = Eigen::Map<const ArrayX<T>, 0, Eigen::InnerStride<>>;
template <typename T>
using StridedMut = Eigen::Map<ArrayX<T>, 0, Eigen::InnerStride<>>;

// Calls f(offset) for the first element of every (outer, inner) row, rows split across threads.
template <typename F>
void for_each_row(const Split3& s, F f) {
  parallel_chunks(
      s.outer * s.inner,
      [&](std::int64_t b, std::int64_t e) {
        for (std::int64_t r = b; r < e; ++r) f((r / s.inner) * s.n * s.inner + r % s.inner);
      },
      s.n);
}

enum class Soft { Softmax, LogSoftmax };

// softmax:      y = e^(x - m) / sum e^(x - m)        gx = y (g - sum(g y))
// log_softmax:  y = x - m - log sum e^(x - m)         gx = g - e^y sum(g)
// Subtracting the row max m keeps every exponent <= 0: finite for logits of +-1000.
// create_graph forms, recomputing y from x:
// softmax:      gx = y (g - sum(g y))       log_softmax:  gx = g - e^y sum(g)
template <Soft K>
Tensor soft(const char* op, const Tensor& x, std::int64_t dim) {
  const TensorImpl& ix = impl_of(x, op);
  dim = normalize_dim(op, dim, ix.shape.size());
  const Split3 s = split_at(ix.shape, dim);
  return dispatch_float(ix.dtype, op, [&]<typename T>() {
    ImplPtr y = make_impl(ix.shape, ix.dtype);
    const Eigen::InnerStride<> st(s.inner);
    for_each_row(s, [&](std::int64_t o) {
      Strided<T> xr(ix.data<T>() + o, s.n, st);
      StridedMut<T> yr(y->data<T>() + o, s.n, st);
      if constexpr (K == Soft::Softmax) {
        softmax_row(yr, xr);
      } else {
        yr = xr - xr.maxCoeff();
        yr -= std::log(yr.exp().sum());
      }
    });
    auto fast = [s](BackwardCtx& c) {
      TensorImpl* gx = c.grad_in(0);
      if (!gx) return;
      const Eigen::InnerStride<> st(s.inner);
      for_each_row(s, [&](std::int64_t o) {
        Strided<T> g(c.grad_out().data<T>() + o, s.n, st), yr(c.out().data<T>() + o, s.n, st);
        StridedMut<T> gr(gx->data<T>() + o, s.n, st);
        if constexpr (K == Soft::Softmax)
          gr += softmax_row_backward(g, yr);
        else
          gr += g - yr.exp() * g.sum();
      });
    };
    auto graph = [dim](GraphCtx& c) {
      if (!c.needs(0)) return;
      const Tensor g = c.grad_out();
      if constexpr (K == Soft::Softmax) {
        const Tensor y = softmax(c.in(0), dim);
        c.add(0, y * (g - sum(g * y, dim, true)));
      } else {
        c.add(0, g - exp(log_softmax(c.in(0), dim)) * sum(g, dim, true));
      }
    };
    return record(op, std::move(y), {x}, ReadsOutput{WithGraph{std::move(fast), std::move(graph)}});
  });
}

}  // namespace

Tensor softmax(const Tensor& x, std::int64_t dim) { return soft<Soft::Softmax>("softmax", x, dim); }
Tensor log_softmax(const Tensor& x, std::int64_t dim) {
  return soft<Soft::LogSoftmax>("log_softmax", x, dim);
}

}  // namespace tapegrad
