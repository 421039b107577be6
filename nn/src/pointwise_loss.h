// Elementwise losses (MSE, L1, the binary cross-entropies) with their reduction fused in: one
// tape entry and no per-element temporary for mean and sum, instead of a chain of generic ops.
// Legend: x input, t target (same shape); g the gradient reaching the loss.
#pragma once
#include <type_traits>

#include "autograd/tape.h"
#include "kernels/dispatch.h"
#include "reduction.h"
#include "runtime/parallel_chunks.h"
#include "tapegrad/nn/functional.h"
#include "tensor/check.h"

namespace tapegrad::nn {

/// Input and target must agree in shape and dtype. PyTorch only warns on a shape mismatch, but
/// broadcasting (B, 1) against (B) silently gives a wrong loss.
inline void check_pair(const char* op, const TensorImpl& x, const TensorImpl& t) {
  check_floating(op, x);
  if (x.shape != t.shape || x.dtype != t.dtype)
    throw ShapeError(msg(op, ": target must match the input: input is ", shape_str(x.shape), " ",
                         dtype_name(x.dtype), ", target is ", shape_str(t.shape), " ",
                         dtype_name(t.dtype)));
}

/// No gradient formula for the target (the op refuses targets that require grad).
struct NoTargetGrad {};

/// loss_i = value(x_i, t_i), then reduced by r. Backward: gx_i += s_i dx(x_i, t_i) and
/// gt_i += s_i dt(x_i, t_i), with s_i = g / n (mean; n the batch size for batchmean), g (sum) or
/// g_i (none). value, dx and dt map Eigen array segments to array expressions, like unary_op's
/// functions. graph is dx and dt again on tensors for create_graph: graph(x, t) ->
/// std::pair{dx, dt} (dt unused, and may be undefined, with NoTargetGrad).
template <typename T, typename Value, typename DX, typename DT, typename Graph>
Tensor pointwise_loss(const char* op, const Tensor& input, const Tensor& target, Reduction r,
                      Value value, DX dx, DT dt, bool batchmean_ok, Graph graph) {
  const TensorImpl &x = impl_of(input, op), &t = impl_of(target, op);
  check_pair(op, x, t);
  check_reduction(op, r, batchmean_ok);
  const T divisor =
      static_cast<T>(r == Reduction::BatchMean && !x.shape.empty() ? x.shape[0] : x.numel);
  auto xv = cvec<T>(x), tv = cvec<T>(t);
  ImplPtr y;
  if (r == Reduction::None) {
    y = make_impl(x.shape, x.dtype);
    auto yv = vec<T>(*y);
    parallel_chunks(x.numel, [&](std::int64_t b, std::int64_t e) {
      yv.segment(b, e - b) = value(xv.segment(b, e - b), tv.segment(b, e - b));
    });
  } else {
    y = make_impl({}, x.dtype);
    const T total = value(xv, tv).sum();  // sum then divide, as PyTorch's CPU mean
    *y->data<T>() = r == Reduction::Sum ? total : total / divisor;
  }
  auto fast = [r, divisor, dx, dt](BackwardCtx& c) {
    const TensorImpl& x = c.in(0);
    auto xv = cvec<T>(x), tv = cvec<T>(c.in(1));
    auto g = cvec<T>(c.grad_out());
    const T s = r == Reduction::None ? T(0) : r == Reduction::Sum ? g[0] : g[0] / divisor;
    // dst_i += s_i deriv(x_i, t_i), s_i per element for none, one scalar for mean and sum.
    auto accumulate = [&](TensorImpl* dst, const auto& deriv) {
      if (!dst) return;
      auto dv = vec<T>(*dst);
      parallel_chunks(x.numel, [&](std::int64_t b, std::int64_t e) {
        const std::int64_t n = e - b;
        if (r == Reduction::None)
          dv.segment(b, n) += g.segment(b, n) * deriv(xv.segment(b, n), tv.segment(b, n));
        else
          dv.segment(b, n) += s * deriv(xv.segment(b, n), tv.segment(b, n));
      });
    };
    accumulate(c.grad_in(0), dx);
    if constexpr (!std::is_same_v<DT, NoTargetGrad>)
      accumulate(c.grad_in(1), dt);
    else
      (void)dt;  // captured for the other case; clang warns about an unused capture
  };
  return record(op, std::move(y), {input, target},
                WithGraph{std::move(fast), [r, divisor, graph](GraphCtx& c) {
                            const Tensor g = c.grad_out();
                            const Tensor s = r == Reduction::None || r == Reduction::Sum
                                                 ? g
                                                 : g / static_cast<double>(divisor);
                            const auto [gx, gt] = graph(c.in(0), c.in(1));
                            if (c.needs(0)) c.add(0, s * gx);
                            if (c.needs(1)) c.add(1, s * gt);
                          }});
}

}  // namespace tapegrad::nn
