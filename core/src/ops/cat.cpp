// cat joins tensors along an existing dim; stack along a new one (built from reshape + cat).
// Each input k is seen as (outer, n_k, inner) and lands at rows [off_k, off_k + n_k) of y.
#include <cstring>

#include "autograd/tape.h"
#include "kernels/dispatch.h"
#include "kernels/layout.h"
#include "tapegrad/core/ops.h"
#include "tensor/check.h"

namespace tapegrad {

// y = [x_0, x_1, ...] along dim.   gx_k = the slice of g that x_k filled.
Tensor cat(const std::vector<Tensor>& xs, std::int64_t dim) {
  if (xs.empty()) throw ValueError("cat: needs at least one tensor");
  const TensorImpl& first = impl_of(xs[0], "cat");
  if (first.shape.empty()) throw ShapeError("cat: cannot join 0-d tensors; use stack");
  dim = normalize_dim("cat", dim, first.shape.size());
  Shape out = first.shape;
  out[dim] = 0;
  std::vector<std::int64_t> n(xs.size());
  for (std::size_t k = 0; k < xs.size(); ++k) {
    const TensorImpl& x = impl_of(xs[k], "cat");
    if (x.dtype != first.dtype)
      throw ValueError(msg("cat: tensor ", k, " is ", dtype_name(x.dtype), ", tensor 0 is ",
                           dtype_name(first.dtype)));
    bool ok = x.shape.size() == first.shape.size();
    for (std::size_t d = 0; ok && d < x.shape.size(); ++d)
      ok = static_cast<std::int64_t>(d) == dim || x.shape[d] == first.shape[d];
    if (!ok)
      throw ShapeError(msg("cat: tensor ", k, " has shape ", shape_str(x.shape), ", tensor 0 has ",
                           shape_str(first.shape), "; all sizes must match except in dim ", dim));
    n[k] = x.shape[dim];
    out[dim] += n[k];
  }
  const Split3 s = split_at(out, dim);
  return dispatch_all(first.dtype, [&]<typename T>() {
    ImplPtr y = make_impl(out, first.dtype);
    std::int64_t off = 0;
    for (std::size_t k = 0; k < xs.size(); ++k) {
      const T* src = impl_ptr(xs[k])->data<T>();
      for (std::int64_t o = 0; o < s.outer; ++o)
        std::memcpy(y->data<T>() + (o * s.n + off) * s.inner, src + o * n[k] * s.inner,
                    n[k] * s.inner * sizeof(T));
      off += n[k];
    }
    // create_graph: each input's part of g, taken out with narrow.
    auto graph = [dim, n](GraphCtx& c) {
      std::int64_t off = 0;
      for (std::size_t k = 0; k < n.size(); ++k) {
        if (c.needs(k)) c.add(k, narrow(c.grad_out(), dim, off, n[k]));
        off += n[k];
      }
    };
    return record("cat", std::move(y), xs,
                  WithGraph{[s, n](BackwardCtx& c) {
                              std::int64_t off = 0;
                              for (std::size_t k = 0; k < n.size(); ++k) {
                                if (TensorImpl* gx = c.grad_in(k))
                                  for (std::int64_t o = 0; o < s.outer; ++o)
                                    Eigen::Map<ArrayX<T>>(gx->data<T>() + o * n[k] * s.inner,
                                                          n[k] * s.inner) +=
                                        Eigen::Map<const ArrayX<T>>(
                                            c.grad_out().data<T>() + (o * s.n + off) * s.inner,
                                            n[k] * s.inner);
                                off += n[k];
                              }
                            },
                            std::move(graph)});
  });
}

// y = tensors of one shape joined along a new dim (each given a size-1 dim there, then cat).
Tensor stack(const std::vector<Tensor>& xs, std::int64_t dim) {
  if (xs.empty()) throw ValueError("stack: needs at least one tensor");
  const Shape& s0 = impl_of(xs[0], "stack").shape;
  dim = normalize_dim("stack", dim, static_cast<std::int64_t>(s0.size()) + 1);
  std::vector<Tensor> parts;
  parts.reserve(xs.size());
  for (std::size_t k = 0; k < xs.size(); ++k) {
    if (impl_of(xs[k], "stack").shape != s0)
      throw ShapeError(msg("stack: tensor ", k, " has shape ", shape_str(xs[k].shape()),
                           ", tensor 0 has ", shape_str(s0), "; all must match"));
    Shape s = s0;
    s.insert(s.begin() + dim, 1);
    parts.push_back(reshape(xs[k], s));
  }
  return cat(parts, dim);
}

}  // namespace tapegrad
