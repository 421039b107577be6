// sort, argsort and topk: each lane along dim ordered through an index permutation, the values
// gathered from it, and the gradient sent back through the same indices.
// Legend: x the input seen as (outer, n, inner); y the k values kept per lane; g y's gradient.
#include "tapegrad/core/ops/sort.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <numeric>
#include <vector>

#include "autograd/tape.h"
#include "kernels/dispatch.h"
#include "kernels/layout.h"
#include "ops/take.h"
#include "runtime/parallel_chunks.h"
#include "tapegrad/core/autograd/tape.h"
#include "tapegrad/core/checked.h"
#include "tensor/check.h"

namespace tapegrad {

namespace {

// Whether a comes before b in the order: ascending or descending, NaN the largest value, and
// the earlier index first among equals, so that every sort here gives the stable sort's answer.
template <typename T, bool kDescending>
bool before(T a, T b, std::int64_t ia, std::int64_t ib) {
  if constexpr (std::is_floating_point_v<T>) {
    const bool na = std::isnan(a), nb = std::isnan(b);
    if (na || nb) {
      if (na && nb) return ia < ib;
      return kDescending ? na : nb;  // NaN is the largest: first descending, last ascending
    }
  }
  if (a != b) return kDescending ? a > b : a < b;
  return ia < ib;
}

// The first k of each lane's n elements in order: values into y, their indices into idx (both
// (outer, k, inner)). perm is scratch of outer * inner * n indices, one run per lane.
template <typename T, bool kDescending>
void order_lanes(const T* x, const Split3& s, std::int64_t k, T* y, std::int64_t* idx,
                 std::int64_t* perm) {
  const std::int64_t lanes = s.outer * s.inner;
  // A lane sorts n log n comparisons: threads start only when there are enough of them.
  const std::int64_t cost =
      std::max<std::int64_t>(1, s.n * (1 + std::bit_width(static_cast<std::uint64_t>(s.n))));
  parallel_chunks(
      lanes,
      [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t lane = begin; lane < end; ++lane) {
          const std::int64_t o = lane / s.inner, i = lane % s.inner;
          const T* row = x + o * s.n * s.inner + i;
          std::int64_t* p = perm + lane * s.n;
          std::iota(p, p + s.n, std::int64_t{0});
          auto cmp = [&](std::int64_t a, std::int64_t b) {
            return before<T, kDescending>(row[a * s.inner], row[b * s.inner], a, b);
          };
          if (k == s.n)
            std::sort(p, p + s.n, cmp);  // a strict total order: the same answer as stable_sort
          else
            std::partial_sort(p, p + k, p + s.n, cmp);
          for (std::int64_t j = 0; j < k; ++j) {
            const std::int64_t at = (o * k + j) * s.inner + i;
            idx[at] = p[j];
            y[at] = row[p[j] * s.inner];
          }
        }
      },
      cost);
}

// y = the first k of each lane of x in order.   gx[o, idx[o, j, i], i] += g[o, j, i].
std::pair<Tensor, Tensor> ordered(const char* op, const Tensor& x, std::int64_t k, std::int64_t dim,
                                  bool descending) {
  const TensorImpl& ix = impl_of(x, op);
  dim = normalize_dim(op, dim, static_cast<std::int64_t>(ix.shape.size()));
  const Split3 s = ix.shape.empty() ? Split3{} : split_at(ix.shape, dim);
  if (k < 0 || k > s.n)
    throw ValueError(msg(op, ": k = ", k, " is out of range for dim ", dim, " of size ", s.n,
                         " (shape ", shape_str(ix.shape), "); expected 0 <= k <= ", s.n));
  Shape out_shape = ix.shape;
  if (!out_shape.empty()) out_shape[dim] = k;
  ImplPtr idx = make_impl(out_shape, kInt64);
  // One run of n indices per lane, made before the threads start (none allocate).
  std::vector<std::int64_t> perm(static_cast<std::size_t>(ix.numel));
  return dispatch_all(ix.dtype, [&]<typename T>() {
    ImplPtr y = make_impl(out_shape, ix.dtype);
    if (descending)
      order_lanes<T, true>(ix.data<T>(), s, k, y->data<T>(), idx->data<std::int64_t>(),
                           perm.data());
    else
      order_lanes<T, false>(ix.data<T>(), s, k, y->data<T>(), idx->data<std::int64_t>(),
                            perm.data());
    // The recorded form: g added back at each kept element's source.
    auto graph = [s, k, idx](GraphCtx& c) {
      if (!c.needs(0)) return;
      const std::int64_t* pi = idx->data<std::int64_t>();
      auto off = std::make_shared<std::vector<std::int64_t>>(static_cast<std::size_t>(idx->numel));
      for (std::int64_t o = 0; o < s.outer; ++o)
        for (std::int64_t j = 0; j < k; ++j)
          for (std::int64_t i = 0; i < s.inner; ++i) {
            const std::int64_t at = (o * k + j) * s.inner + i;
            (*off)[static_cast<std::size_t>(at)] = (o * s.n + pi[at]) * s.inner + i;
          }
      c.add(0, put_add_at(c.grad_out(), std::move(off), c.in(0).shape()));
    };
    Tensor values = record(op, y, {x},
                           WithGraph{[s, k, idx](BackwardCtx& c) {
                                       TensorImpl* gx = c.grad_in(0);
                                       if (!gx) return;
                                       const T* g = c.grad_out().data<T>();
                                       const std::int64_t* pi = idx->data<std::int64_t>();
                                       T* px = gx->data<T>();
                                       // Lanes are disjoint and, within a lane, the indices
                                       // distinct: no two writes collide.
                                       parallel_chunks(
                                           s.outer * s.inner,
                                           [&](std::int64_t begin, std::int64_t end) {
                                             for (std::int64_t lane = begin; lane < end; ++lane) {
                                               const std::int64_t o = lane / s.inner,
                                                                  i = lane % s.inner;
                                               for (std::int64_t j = 0; j < k; ++j) {
                                                 const std::int64_t at = (o * k + j) * s.inner + i;
                                                 px[(o * s.n + pi[at]) * s.inner + i] += g[at];
                                               }
                                             }
                                           },
                                           k);
                                     },
                                     std::move(graph)});
    return std::pair<Tensor, Tensor>{values, Tensor(idx)};
  });
}

}  // namespace

std::pair<Tensor, Tensor> sort(const Tensor& x, std::int64_t dim, bool descending, bool stable) {
  (void)stable;  // every sort here is stable
  const TensorImpl& ix = impl_of(x, "sort");
  const std::int64_t d = normalize_dim("sort", dim, static_cast<std::int64_t>(ix.shape.size()));
  return ordered("sort", x, ix.shape.empty() ? 1 : ix.shape[d], d, descending);
}

Tensor argsort(const Tensor& x, std::int64_t dim, bool descending, bool stable) {
  NoGradGuard no_grad;  // only the indices are wanted
  return sort(x, dim, descending, stable).second;
}

std::pair<Tensor, Tensor> topk(const Tensor& x, std::int64_t k, std::int64_t dim, bool largest,
                               bool sorted) {
  (void)sorted;  // always in order: one of the orders torch allows without sorted
  return ordered("topk", x, k, dim, largest);
}

}  // namespace tapegrad
