// Reordering copies: permute (dims in a new order) and flip (dims reversed). Both read x through
// strides that may be negative and write y in order; each backward is the same kind of copy.
#include "autograd/tape.h"
#include "kernels/dispatch.h"
#include "kernels/layout.h"
#include "tapegrad/core/ops.h"
#include "tensor/check.h"

namespace tapegrad {

namespace {

// dst (shape `shape`, row-major) (+)= src read at base + sum_d i_d strides[d].
template <typename T, bool kAdd>
void strided_copy(const T* src, std::int64_t base, const std::vector<std::int64_t>& strides,
                  const Shape& shape, T* dst) {
  const std::int64_t total = shape_numel(shape);
  if (total == 0) return;
  const std::size_t r = shape.size();
  const std::int64_t n = r ? shape[r - 1] : 1, step = r ? strides[r - 1] : 0;
  std::vector<std::int64_t> idx(r ? r - 1 : 0, 0);
  std::int64_t at = base;
  for (std::int64_t o = 0; o < total; o += n) {
    for (std::int64_t j = 0; j < n; ++j) {
      if constexpr (kAdd)
        dst[o + j] += src[at + j * step];
      else
        dst[o + j] = src[at + j * step];
    }
    for (std::size_t d = idx.size(); d-- > 0;) {  // advance the outer dims like an odometer
      at += strides[d];
      if (++idx[d] < shape[d]) break;
      at -= strides[d] * shape[d];
      idx[d] = 0;
    }
  }
}

// Normalised dims, each once; throws naming op.
std::vector<std::int64_t> distinct_dims(const char* op, const std::vector<std::int64_t>& dims,
                                        std::int64_t rank) {
  std::vector<std::int64_t> r;
  std::vector<bool> seen(std::max<std::int64_t>(rank, 1), false);
  for (const std::int64_t d : dims) {
    const std::int64_t k = normalize_dim(op, d, rank);
    if (seen[k]) throw ValueError(msg(op, ": dim ", k, " appears more than once"));
    seen[k] = true;
    r.push_back(k);
  }
  return r;
}

}  // namespace

// y[i_0, ..., i_r] = x at index j with j[perm[d]] = i_d.   gx = g permuted back.
Tensor permute(const Tensor& x, const std::vector<std::int64_t>& dims) {
  const TensorImpl& ix = impl_of(x, "permute");
  const auto rank = static_cast<std::int64_t>(ix.shape.size());
  if (static_cast<std::int64_t>(dims.size()) != rank)
    throw ValueError(msg("permute: ", dims.size(), " dims given for a tensor of rank ", rank));
  const std::vector<std::int64_t> perm = distinct_dims("permute", dims, rank);
  const std::vector<std::int64_t> st = row_major_strides(ix.shape);
  Shape out(perm.size());
  std::vector<std::int64_t> read(perm.size()), back(perm.size());
  for (std::size_t d = 0; d < perm.size(); ++d) {
    out[d] = ix.shape[perm[d]];
    read[d] = st[perm[d]];
  }
  // The backward reads g (shape out) in x's order: x's dim perm[d] is g's dim d.
  const std::vector<std::int64_t> gst = row_major_strides(out);
  for (std::size_t d = 0; d < perm.size(); ++d) back[perm[d]] = gst[d];
  return dispatch_all(ix.dtype, [&]<typename T>() {
    ImplPtr y = make_impl(out, ix.dtype);
    strided_copy<T, false>(ix.data<T>(), 0, read, out, y->data<T>());
    return record("permute", std::move(y), {x},
                  WithGraph{[back](BackwardCtx& c) {
                              if (TensorImpl* gx = c.grad_in(0))
                                strided_copy<T, true>(c.grad_out().data<T>(), 0, back, gx->shape,
                                                      gx->data<T>());
                            },
                            [perm](GraphCtx& c) {
                              if (!c.needs(0)) return;
                              std::vector<std::int64_t> inverse(perm.size());
                              for (std::size_t d = 0; d < perm.size(); ++d)
                                inverse[static_cast<std::size_t>(perm[d])] =
                                    static_cast<std::int64_t>(d);
                              c.add(0, permute(c.grad_out(), inverse));
                            }});
  });
}

// y = x with the order of each dim in dims reversed.   gx = g flipped the same way.
Tensor flip(const Tensor& x, const std::vector<std::int64_t>& dims) {
  const TensorImpl& ix = impl_of(x, "flip");
  const auto rank = static_cast<std::int64_t>(ix.shape.size());
  std::vector<std::int64_t> st = row_major_strides(ix.shape);
  std::int64_t base = 0;
  for (const std::int64_t d : distinct_dims("flip", dims, rank)) {
    if (rank == 0) continue;  // a 0-d tensor flips to itself
    if (ix.shape[d] > 0) base += (ix.shape[d] - 1) * st[d];
    st[d] = -st[d];
  }
  return dispatch_all(ix.dtype, [&]<typename T>() {
    ImplPtr y = make_impl(ix.shape, ix.dtype);
    strided_copy<T, false>(ix.data<T>(), base, st, ix.shape, y->data<T>());
    return record("flip", std::move(y), {x},
                  WithGraph{[base, st](BackwardCtx& c) {
                              if (TensorImpl* gx = c.grad_in(0))
                                strided_copy<T, true>(c.grad_out().data<T>(), base, st, gx->shape,
                                                      gx->data<T>());
                            },
                            [dims](GraphCtx& c) {
                              if (c.needs(0)) c.add(0, flip(c.grad_out(), dims));
                            }});
  });
}

}  // namespace tapegrad
