// gather: pick one element along dim for every position of an index tensor (what class-index
// losses need: log_probs.gather(1, labels.view({-1, 1}))).
#include <algorithm>

#include "autograd/tape.h"
#include "kernels/dispatch.h"
#include "kernels/layout.h"
#include "ops/take.h"
#include "tapegrad/core/ops.h"
#include "tensor/check.h"

namespace tapegrad {

namespace {
// Flat offsets into x of every element gather reads, in the index's row-major order.
std::vector<std::int64_t> gather_offsets(const TensorImpl& x, std::int64_t dim,
                                         const TensorImpl& index) {
  const std::size_t r = x.shape.size();
  const std::vector<std::int64_t> stride = row_major_strides(x.shape);
  std::vector<std::int64_t> coord(r, 0), off(static_cast<std::size_t>(index.numel));
  const std::int64_t* idx = index.data<std::int64_t>();
  for (std::int64_t p = 0; p < index.numel; ++p) {
    const std::int64_t v = idx[p];
    if (v < 0 || v >= x.shape[dim])
      throw ValueError(msg("gather: index ", v, " at position ", p, " is out of range for dim ",
                           dim, " of size ", x.shape[dim]));
    std::int64_t o = 0;
    for (std::size_t d = 0; d < r; ++d)
      o += (static_cast<std::int64_t>(d) == dim ? v : coord[d]) * stride[d];
    off[p] = o;
    for (std::size_t d = r; d-- > 0;) {  // odometer over the index's shape
      if (++coord[d] < index.shape[d]) break;
      coord[d] = 0;
    }
  }
  return off;
}
}  // namespace

// y[p] = x[p with coordinate dim replaced by index[p]].   gx[that element] += g[p].
Tensor gather(const Tensor& x, std::int64_t dim, const Tensor& index) {
  const TensorImpl& ix = impl_of(x, "gather");
  const TensorImpl& ii = impl_of(index, "gather");
  check_index_dtype("gather", "index", ii);
  if (ix.shape.empty()) throw ShapeError("gather: cannot gather from a 0-d tensor");
  dim = normalize_dim("gather", dim, ix.shape.size());
  if (ii.shape.size() != ix.shape.size())
    throw ShapeError(msg("gather: index must have x's rank: x is ", shape_str(ix.shape),
                         ", index is ", shape_str(ii.shape)));
  for (std::size_t d = 0; d < ix.shape.size(); ++d)
    if (static_cast<std::int64_t>(d) != dim && ii.shape[d] > ix.shape[d])
      throw ShapeError(msg("gather: index ", shape_str(ii.shape), " is larger than x ",
                           shape_str(ix.shape), " in dim ", d));
  auto off = std::make_shared<const std::vector<std::int64_t>>(gather_offsets(ix, dim, ii));
  return dispatch_all(ix.dtype, [&]<typename T>() {
    ImplPtr y = make_impl(ii.shape, ix.dtype);
    for (std::int64_t p = 0; p < ii.numel; ++p) y->data<T>()[p] = ix.data<T>()[(*off)[p]];
    return record("gather", std::move(y), {x},
                  WithGraph{[off](BackwardCtx& c) {
                              TensorImpl* gx = c.grad_in(0);
                              if (!gx) return;
                              const T* g = c.grad_out().data<T>();
                              for (std::size_t p = 0; p < off->size(); ++p)
                                gx->data<T>()[(*off)[p]] += g[p];
                            },
                            [off](GraphCtx& c) {
                              if (c.needs(0))
                                c.add(0, put_add_at(c.grad_out(), off, c.in(0).shape()));
                            }});
  });
}

// y[..., c] = 1 where c == index[...], else 0 (int64, no gradient). num_classes -1 means the
// largest index + 1.
Tensor one_hot(const Tensor& index, std::int64_t num_classes) {
  const TensorImpl& ii = impl_of(index, "one_hot");
  check_index_dtype("one_hot", "index", ii);
  const std::int64_t* p = ii.data<std::int64_t>();
  if (num_classes < -1)
    throw ValueError(msg("one_hot: num_classes must be -1 or non-negative, got ", num_classes));
  if (num_classes == -1 && ii.numel == 0)
    throw ValueError("one_hot: cannot infer num_classes from an empty index; pass it");
  std::int64_t classes = num_classes;
  if (classes == -1)  // the largest index + 1, which must not wrap
    classes = checked_add(*std::max_element(p, p + ii.numel), 1, "one_hot: num_classes");
  check_index_range("one_hot", ii, classes, msg(classes, " classes"));
  Shape out = ii.shape;
  out.push_back(classes);
  ImplPtr y = make_zeros(out, kInt64);
  for (std::int64_t k = 0; k < ii.numel; ++k) y->data<std::int64_t>()[k * classes + p[k]] = 1;
  return Tensor(y);
}

}  // namespace tapegrad
