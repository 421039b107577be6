// Selection by a mask or by position: where(cond, a, b), masked_fill, tril and triu. The mask is
// cond != 0 in cond's own dtype (NaN counts as set), so a float mask of 0.5 selects as torch's bool
// conversion would. Legend: m the mask, a and b the operands, all broadcast to y; g the gradient of
// y.
#include <algorithm>

#include "autograd/tape.h"
#include "kernels/broadcast.h"
#include "kernels/dispatch.h"
#include "kernels/elementwise.h"

namespace tapegrad {

namespace {

// x's elements broadcast to shape `to`, in a buffer of their own when x's shape differs.
template <typename T>
const T* at_shape(const TensorImpl& x, const Shape& to, ImplPtr& buffer) {
  if (x.shape == to) return x.data<T>();
  buffer = make_zeros(to, x.dtype);
  expand_into(buffer->data<T>(), to, x.data<T>(), x.shape);
  return buffer->data<T>();
}

// The mask m = (cond != 0) broadcast to shape `to`, one byte an element.
std::vector<unsigned char> mask_at(const TensorImpl& cond, const Shape& to) {
  std::vector<unsigned char> m(static_cast<std::size_t>(shape_numel(to)));
  dispatch_all(cond.dtype, [&]<typename C>() {
    ImplPtr buffer;
    const C* c = at_shape<C>(cond, to, buffer);
    for (std::size_t i = 0; i < m.size(); ++i) m[i] = c[i] != C(0);
  });
  return m;
}

// gi += (m == pick ? g : 0) summed to input i's shape.
template <typename T>
void select_grad(BackwardCtx& c, std::size_t i, const std::vector<unsigned char>& m,
                 unsigned char pick) {
  TensorImpl* gi = c.grad_in(i);
  if (!gi) return;
  const TensorImpl& g = c.grad_out();
  const T* gp = g.data<T>();
  if (gi->shape == g.shape) {
    T* out = gi->data<T>();
    for (std::int64_t k = 0; k < g.numel; ++k)
      if (m[k] == pick) out[k] += gp[k];
    return;
  }
  const ImplPtr tmp = make_zeros(g.shape, g.dtype);
  T* t = tmp->data<T>();
  for (std::int64_t k = 0; k < g.numel; ++k)
    if (m[k] == pick) t[k] = gp[k];
  sum_into(gi->data<T>(), gi->shape, t, tmp->shape);
}

// y = m ? a : b with y of shape `out` (cond, a and b broadcast to it; a and b of one dtype).
// Recorded with cond as an input so that backward can rebuild the mask instead of keeping it.
Tensor select(const char* op, const Tensor& cond, const Tensor& a, const Tensor& b,
              const Shape& out) {
  const TensorImpl &ic = impl_of(cond, op), &ia = *impl_ptr(a), &ib = *impl_ptr(b);
  ImplPtr y = make_impl(out, ia.dtype);
  return dispatch_all(ia.dtype, [&]<typename T>() {
    const std::vector<unsigned char> m = mask_at(ic, out);
    ImplPtr ba, bb;
    const T *pa = at_shape<T>(ia, out, ba), *pb = at_shape<T>(ib, out, bb);
    T* py = y->data<T>();
    for (std::size_t k = 0; k < m.size(); ++k) py[k] = m[k] ? pa[k] : pb[k];
    return record(op, std::move(y), {cond, a, b},
                  WithGraph{[](BackwardCtx& c) {
                              if (!c.grad_in(1) && !c.grad_in(2)) return;
                              const std::vector<unsigned char> m =
                                  mask_at(c.in(0), c.grad_out().shape);
                              select_grad<T>(c, 1, m, 1);
                              select_grad<T>(c, 2, m, 0);
                            },
                            [](GraphCtx& c) {
                              // g where the condition picked the input, 0 elsewhere.
                              const Tensor cond = c.in(0), g = c.grad_out();
                              if (c.needs(1))
                                c.add(1, sum_to(where(cond, g, 0.0), c.in(1).shape()));
                              if (c.needs(2))
                                c.add(2, sum_to(where(cond, 0.0, g), c.in(2).shape()));
                            }});
  });
}

// A scalar operand as a 0-d tensor beside `other`: other's dtype, unless other is int64 and v
// is not a whole number (then float32), as torch's type promotion for Python scalars.
Tensor scalar_beside(const Tensor& other, double v, const char* op) {
  const Dtype d = impl_of(other, op).dtype;
  const bool whole = std::isfinite(v) && v == std::floor(v);
  return scalar_tensor(v, {.dtype = d == kInt64 && !whole ? kFloat32 : d});
}

}  // namespace

Tensor where(const Tensor& cond, const Tensor& a0, const Tensor& b0) {
  const Promoted p("where", a0, b0);
  const Shape out =
      broadcast_shapes("where", impl_of(cond, "where").shape,
                       broadcast_shapes("where", impl_ptr(p.a)->shape, impl_ptr(p.b)->shape));
  return select("where", cond, p.a, p.b, out);
}
Tensor where(const Tensor& cond, const Tensor& a, double b) {
  return where(cond, a, scalar_beside(a, b, "where"));
}
Tensor where(const Tensor& cond, double a, const Tensor& b) {
  return where(cond, scalar_beside(b, a, "where"), b);
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, double value) {
  const TensorImpl &ix = impl_of(x, "masked_fill"), &im = impl_of(mask, "masked_fill");
  if (broadcast_shapes("masked_fill", im.shape, ix.shape) != ix.shape)
    throw ShapeError(msg("masked_fill: mask of shape ", shape_str(im.shape),
                         " does not broadcast to the input's shape ", shape_str(ix.shape)));
  return dispatch_all(ix.dtype, [&]<typename T>() {
    const Tensor v = scalar_tensor(
        static_cast<double>(element_from_double<T>(value, "masked_fill")), {.dtype = ix.dtype});
    return select("masked_fill", mask, v, x, ix.shape);
  });
}

namespace {
// The kept triangle of each (rows x cols) matrix in src, written to dst (zeros elsewhere) or,
// with kAccumulate, added to dst (the rest untouched). Row i keeps columns [0, i + d + 1) for
// the lower triangle, [i + d, cols) for the upper one; d is clamped first, so no sum overflows.
template <typename T, bool kAccumulate>
void keep_triangle(const T* src, T* dst, std::int64_t matrices, std::int64_t rows,
                   std::int64_t cols, std::int64_t diagonal, bool lower) {
  const std::int64_t d = std::clamp<std::int64_t>(diagonal, -rows - 1, cols + 1);
  for (std::int64_t mtx = 0; mtx < matrices; ++mtx)
    for (std::int64_t i = 0; i < rows; ++i) {
      const std::int64_t row = (mtx * rows + i) * cols;
      const std::int64_t b = lower ? 0 : std::clamp<std::int64_t>(i + d, 0, cols);
      const std::int64_t e = lower ? std::clamp<std::int64_t>(i + d + 1, 0, cols) : cols;
      if constexpr (kAccumulate) {
        for (std::int64_t j = b; j < e; ++j) dst[row + j] += src[row + j];
      } else {
        for (std::int64_t j = 0; j < cols; ++j)
          dst[row + j] = j >= b && j < e ? src[row + j] : T(0);
      }
    }
}

// y = x on the kept triangle, 0 elsewhere.   gx += g on the kept triangle.
Tensor triangle(const char* op, const Tensor& x, std::int64_t diagonal, bool lower) {
  const TensorImpl& ix = impl_of(x, op);
  const std::size_t r = ix.shape.size();
  if (r < 2)
    throw ShapeError(msg(op, ": expects a tensor of at least 2 dims, got ", shape_str(ix.shape)));
  const std::int64_t rows = ix.shape[r - 2], cols = ix.shape[r - 1];
  const std::int64_t matrices = rows * cols == 0 ? 0 : ix.numel / (rows * cols);
  return dispatch_all(ix.dtype, [&]<typename T>() {
    ImplPtr y = make_impl(ix.shape, ix.dtype);
    keep_triangle<T, false>(ix.data<T>(), y->data<T>(), matrices, rows, cols, diagonal, lower);
    return record(
        op, std::move(y), {x},
        WithGraph{[=](BackwardCtx& c) {
                    if (TensorImpl* gx = c.grad_in(0))
                      keep_triangle<T, true>(c.grad_out().data<T>(), gx->data<T>(), matrices, rows,
                                             cols, diagonal, lower);
                  },
                  [diagonal, lower](GraphCtx& c) {
                    if (c.needs(0))
                      c.add(0, lower ? tril(c.grad_out(), diagonal) : triu(c.grad_out(), diagonal));
                  }});
  });
}
}  // namespace

Tensor tril(const Tensor& x, std::int64_t diagonal) { return triangle("tril", x, diagonal, true); }
Tensor triu(const Tensor& x, std::int64_t diagonal) { return triangle("triu", x, diagonal, false); }

}  // namespace tapegrad
