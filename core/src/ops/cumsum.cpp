// cumsum: running sums along a dim, seen as (outer, n, inner) with rows `inner` apart.
#include "autograd/tape.h"
#include "kernels/dispatch.h"
#include "kernels/layout.h"
#include "tapegrad/core/ops.h"
#include "tensor/check.h"

namespace tapegrad {

namespace {
// dst[o, j, i] (+)= sum over j' <= j (kReverse: j' >= j) of src[o, j', i]; rows of `inner`
// contiguous elements are summed as whole vectors.
template <typename T, bool kReverse>
void running_sum(const Split3& s, const T* src, T* dst) {
  ArrayX<T> acc(s.inner);
  for (std::int64_t o = 0; o < s.outer; ++o) {
    acc.setZero();
    for (std::int64_t jj = 0; jj < s.n; ++jj) {
      const std::int64_t j = kReverse ? s.n - 1 - jj : jj;
      const std::int64_t at = (o * s.n + j) * s.inner;
      acc += Eigen::Map<const ArrayX<T>>(src + at, s.inner);
      Eigen::Map<ArrayX<T>>(dst + at, s.inner) += acc;
    }
  }
}
}  // namespace

// y[o, j, i] = sum_{j' <= j} x[o, j', i].   gx[o, j, i] += sum_{j' >= j} g[o, j', i].
Tensor cumsum(const Tensor& x, std::int64_t dim) {
  const TensorImpl& ix = impl_of(x, "cumsum");
  dim = normalize_dim("cumsum", dim, ix.shape.size());
  const Split3 s = split_at(ix.shape, dim);
  return dispatch_all(ix.dtype, [&]<typename T>() {
    ImplPtr y = make_zeros(ix.shape, ix.dtype);
    running_sum<T, false>(s, ix.data<T>(), y->data<T>());
    if constexpr (!std::is_floating_point_v<T>) {
      return Tensor(y);
    } else {
      // create_graph: the suffix sums as a cumsum of g reversed along dim.
      return record("cumsum", std::move(y), {x},
                    WithGraph{[s](BackwardCtx& c) {
                                if (TensorImpl* gx = c.grad_in(0))
                                  running_sum<T, true>(s, c.grad_out().data<T>(), gx->data<T>());
                              },
                              [dim](GraphCtx& c) {
                                if (!c.needs(0)) return;
                                const Tensor g = c.grad_out();
                                c.add(0,
                                      g.dim() == 0 ? g : flip(cumsum(flip(g, {dim}), dim), {dim}));
                              }});
    }
  });
}

}  // namespace tapegrad
