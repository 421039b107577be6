// Reductions: sum and mean (all elements, or along a dim), max/min along a dim, argmax.
// A tensor reduced along dim is seen as (outer, n, inner); keepdim leaves a size-1 dim there.
#include "kernels/reduce.h"

#include "autograd/tape.h"
#include "kernels/broadcast.h"
#include "kernels/dispatch.h"
#include "kernels/layout.h"
#include "ops/take.h"
#include "tapegrad/core/autograd.h"
#include "tensor/check.h"

namespace tapegrad {

ReducePlan plan_reduce(const char* op, const Shape& x, const Dims& dims, bool keepdim) {
  const auto rank = static_cast<std::int64_t>(x.size());
  std::vector<bool> reduced(std::max<std::int64_t>(rank, 1), dims.dims.empty());
  for (const std::int64_t d : dims.dims) {
    const std::int64_t k = normalize_dim(op, d, rank);
    if (reduced[k]) throw ValueError(msg(op, ": dim ", k, " appears more than once in the dims"));
    reduced[k] = true;
  }
  ReducePlan p;
  for (std::int64_t i = 0; i < rank; ++i) {
    p.kept.push_back(reduced[i] ? 1 : x[i]);
    if (reduced[i]) p.count *= x[i];  // x's numel is checked, so no factor overflows
    if (!reduced[i] || keepdim) p.out.push_back(p.kept.back());
  }
  return p;
}

namespace {
Shape reduced_shape(const Shape& s, std::int64_t dim, bool keepdim) {
  Shape r = s;
  if (s.empty()) return r;
  if (keepdim)
    r[dim] = 1;
  else
    r.erase(r.begin() + dim);
  return r;
}

// Sum and mean share one kernel each way, mean dividing by the count (as PyTorch's CPU mean and
// its backward do): one tape entry either way.

// y = sum of all elements / d (0-d).   gx = g / d broadcast to x's shape.
Tensor divided_sum(const char* op, const Tensor& x, double divisor) {
  const TensorImpl& ix = impl_of(x, op);
  return dispatch_all(ix.dtype, [&]<typename T>() {
    ImplPtr y = make_impl({}, ix.dtype);
    if constexpr (!std::is_floating_point_v<T>) {
      *y->data<T>() = cvec<T>(ix).sum();
      return Tensor(y);
    } else {
      const T d = static_cast<T>(divisor);
      *y->data<T>() = cvec<T>(ix).sum() / d;
      return record(op, std::move(y), {x},
                    WithGraph{[d](BackwardCtx& c) {
                                if (TensorImpl* gx = c.grad_in(0))
                                  vec<T>(*gx) += *c.grad_out().data<T>() / d;
                              },
                              [d](GraphCtx& c) {
                                if (!c.needs(0)) return;
                                const Tensor g = d == T(1) ? c.grad_out() : c.grad_out() / d;
                                c.add(0, broadcast_to(g, c.in(0).shape()));
                              }});
    }
  });
}

// y[o, i] = sum_j x[o, j, i] / d.   gx[o, j, i] = g[o, i] / d.
Tensor divided_sum(const char* op, const Tensor& x, std::int64_t dim, bool keepdim,
                   double divisor) {
  const TensorImpl& ix = impl_of(x, op);
  dim = normalize_dim(op, dim, ix.shape.size());
  const Shape kept = reduced_shape(ix.shape, dim, true);
  return dispatch_all(ix.dtype, [&]<typename T>() {
    ImplPtr y = make_zeros(reduced_shape(ix.shape, dim, keepdim), ix.dtype);
    sum_into(y->data<T>(), kept, ix.data<T>(), ix.shape);
    if constexpr (!std::is_floating_point_v<T>) {
      return Tensor(y);
    } else {
      const T d = static_cast<T>(divisor);
      if (d != T(1)) vec<T>(*y) /= d;
      return record(op, std::move(y), {x},
                    WithGraph{[kept, d](BackwardCtx& c) {
                                if (TensorImpl* gx = c.grad_in(0))
                                  expand_into(gx->data<T>(), gx->shape, c.grad_out().data<T>(),
                                              kept, d);
                              },
                              [kept, d](GraphCtx& c) {
                                if (!c.needs(0)) return;
                                Tensor g = reshape(c.grad_out(), kept);
                                if (d != T(1)) g = g / d;
                                c.add(0, broadcast_to(g, c.in(0).shape()));
                              }});
    }
  });
}
}  // namespace

Tensor sum(const Tensor& x) { return divided_sum("sum", x, 1.0); }

Tensor sum_to(const Tensor& g, const Shape& shape) {
  const Shape& from = g.shape();
  if (from == shape) return g;
  if (from.size() < shape.size())
    throw ShapeError(msg("sum_to: ", shape_str(from), " cannot be summed to ", shape_str(shape)));
  // Leading dims broadcasting added go first, then the dims it stretched from size 1.
  Tensor r = g;
  for (std::size_t i = shape.size(); i < from.size(); ++i) r = sum(r, 0);
  for (std::size_t i = 0; i < shape.size(); ++i)
    if (shape[i] == 1 && r.shape()[i] != 1) r = sum(r, static_cast<std::int64_t>(i), true);
  if (r.shape() != shape)
    throw ShapeError(msg("sum_to: ", shape_str(from), " cannot be summed to ", shape_str(shape)));
  return r;
}
Tensor sum(const Tensor& x, std::int64_t dim, bool keepdim) {
  return divided_sum("sum", x, dim, keepdim, 1.0);
}

Tensor mean(const Tensor& x) {
  check_floating("mean", impl_of(x, "mean"));
  return divided_sum("mean", x, static_cast<double>(x.numel()));
}
Tensor mean(const Tensor& x, std::int64_t dim, bool keepdim) {
  const TensorImpl& ix = impl_of(x, "mean");
  check_floating("mean", ix);
  const std::int64_t n =
      ix.shape.empty() ? 1 : ix.shape[normalize_dim("mean", dim, ix.shape.size())];
  return divided_sum("mean", x, dim, keepdim, static_cast<double>(n));
}

namespace {
// Values and int64 indices of the extreme along dim (first occurrence on ties, as PyTorch's
// CPU kernel). gx[o, idx[o, i], i] += g[o, i]: the gradient goes to the chosen element only.
template <bool kMax>
std::pair<Tensor, Tensor> extreme(const char* op, const Tensor& x, std::int64_t dim, bool keepdim) {
  const TensorImpl& ix = impl_of(x, op);
  dim = normalize_dim(op, dim, ix.shape.size());
  const Split3 s = split_at(ix.shape, dim);
  if (s.n == 0)
    throw ValueError(msg(op, ": cannot reduce an empty dim (shape ", shape_str(ix.shape), ")"));
  const Shape out_shape = reduced_shape(ix.shape, dim, keepdim);
  ImplPtr idx = make_impl(out_shape, kInt64);
  return dispatch_all(ix.dtype, [&]<typename T>() {
    ImplPtr y = make_impl(out_shape, ix.dtype);
    const T* px = ix.data<T>();
    T* py = y->data<T>();
    std::int64_t* pi = idx->data<std::int64_t>();
    for (std::int64_t o = 0; o < s.outer; ++o)
      for (std::int64_t i = 0; i < s.inner; ++i) {
        const T* row = px + o * s.n * s.inner + i;
        std::int64_t best = 0;
        for (std::int64_t j = 1; j < s.n; ++j) {
          const T v = row[j * s.inner], b = row[best * s.inner];
          // NaN wins, as in PyTorch: once chosen it stays chosen.
          if (b != b) break;
          if (kMax ? (v > b || v != v) : (v < b || v != v)) best = j;
        }
        py[o * s.inner + i] = row[best * s.inner];
        pi[o * s.inner + i] = best;
      }
    Tensor values;
    if constexpr (!std::is_floating_point_v<T>) {
      values = Tensor(y);
    } else {
      values =
          record(op, y, {x},
                 WithGraph{[s, idx](BackwardCtx& c) {
                             TensorImpl* gx = c.grad_in(0);
                             if (!gx) return;
                             const T* g = c.grad_out().data<T>();
                             const std::int64_t* pi = idx->data<std::int64_t>();
                             for (std::int64_t o = 0; o < s.outer; ++o)
                               for (std::int64_t i = 0; i < s.inner; ++i)
                                 gx->data<T>()[(o * s.n + pi[o * s.inner + i]) * s.inner + i] +=
                                     g[o * s.inner + i];
                           },
                           [s, idx](GraphCtx& c) {
                             if (!c.needs(0)) return;
                             const std::int64_t* pi = idx->data<std::int64_t>();
                             auto off = std::make_shared<std::vector<std::int64_t>>(
                                 static_cast<std::size_t>(s.outer * s.inner));
                             for (std::int64_t o = 0; o < s.outer; ++o)
                               for (std::int64_t i = 0; i < s.inner; ++i)
                                 (*off)[static_cast<std::size_t>(o * s.inner + i)] =
                                     (o * s.n + pi[o * s.inner + i]) * s.inner + i;
                             c.add(0, put_add_at(c.grad_out(), std::move(off), c.in(0).shape()));
                           }});
    }
    return std::pair<Tensor, Tensor>{values, Tensor(idx)};
  });
}
}  // namespace

std::pair<Tensor, Tensor> max(const Tensor& x, std::int64_t dim, bool keepdim) {
  return extreme<true>("max", x, dim, keepdim);
}
std::pair<Tensor, Tensor> min(const Tensor& x, std::int64_t dim, bool keepdim) {
  return extreme<false>("min", x, dim, keepdim);
}

Tensor argmax(const Tensor& x, std::int64_t dim, bool keepdim) {
  NoGradGuard no_grad;  // only the indices are wanted
  return extreme<true>("argmax", x, dim, keepdim).second;
}

}  // namespace tapegrad
