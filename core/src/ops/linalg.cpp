// Matrix products (through gemm.h: one single-threaded GEMM per thread on row-major maps, no
// copies to change layout, no materialised transposes), and transposition.
// Legend: a (n x k), b (k x m), y = a b (n x m); batched forms carry a leading batch dim B.
#include "autograd/tape.h"
#include "kernels/dispatch.h"
#include "kernels/elementwise.h"
#include "kernels/gemm.h"
#include "tapegrad/core/ops.h"
#include "tensor/check.h"

namespace tapegrad {

namespace {
struct MatmulDims {
  std::int64_t batch = 1, ba = 1, bb = 1, n = 0, k = 0, m = 0;
  Shape out;
};

MatmulDims matmul_dims(const TensorImpl& a, const TensorImpl& b) {
  const std::size_t ra = a.shape.size(), rb = b.shape.size();
  if (ra < 2 || ra > 3 || rb < 2 || rb > 3)
    throw ShapeError(msg("matmul: ", shape_str(a.shape), " x ", shape_str(b.shape),
                         ": expects 2-D or 3-D (batched) tensors; reshape a vector to (1, n)"));
  MatmulDims d;
  d.n = a.shape[ra - 2];
  d.k = a.shape[ra - 1];
  d.m = b.shape[rb - 1];
  if (b.shape[rb - 2] != d.k)
    throw ShapeError(msg("matmul: ", shape_str(a.shape), " x ", shape_str(b.shape),
                         ": inner sizes differ (", d.k, " vs ", b.shape[rb - 2], ")"));
  d.ba = ra == 3 ? a.shape[0] : 1;
  d.bb = rb == 3 ? b.shape[0] : 1;
  if (d.ba != d.bb && d.ba != 1 && d.bb != 1)
    throw ShapeError(msg("matmul: ", shape_str(a.shape), " x ", shape_str(b.shape),
                         ": batch sizes differ (", d.ba, " vs ", d.bb, ")"));
  d.batch = std::max(d.ba, d.bb);
  d.out = (ra == 3 || rb == 3) ? Shape{d.batch, d.n, d.m} : Shape{d.n, d.m};
  return d;
}
}  // namespace

// y_i = a_i b_i for each batch entry i (a batch of 1 is shared by all).
// ga_i += g_i b_i^T      gb_i += a_i^T g_i
Tensor matmul(const Tensor& a0, const Tensor& b0) {
  const TensorImpl &ia0 = impl_of(a0, "matmul"), &ib0 = impl_of(b0, "matmul");
  check_floating("matmul", ia0);
  check_floating("matmul", ib0);
  const MatmulDims d = matmul_dims(ia0, ib0);
  const Promoted p = promote("matmul", a0, b0);
  const Tensor &a = p.a, &b = p.b;
  const TensorImpl &ia = *impl_ptr(a), &ib = *impl_ptr(b);
  return dispatch_float(ia.dtype, "matmul", [&]<typename T>() {
    ImplPtr y = make_impl(d.out, ia.dtype);
    const std::int64_t sa = d.ba == 1 ? 0 : d.n * d.k, sb = d.bb == 1 ? 0 : d.k * d.m;
    for (std::int64_t i = 0; i < d.batch; ++i) {
      gemm<false>(Eigen::Map<MatrixRM<T>>(y->data<T>() + i * d.n * d.m, d.n, d.m),
                  Eigen::Map<const MatrixRM<T>>(ia.data<T>() + i * sa, d.n, d.k),
                  Eigen::Map<const MatrixRM<T>>(ib.data<T>() + i * sb, d.k, d.m));
    }
    return record("matmul", y, {a, b}, [d, sa, sb](BackwardCtx& c) {
      TensorImpl* ga = c.grad_in(0);
      TensorImpl* gb = c.grad_in(1);
      for (std::int64_t i = 0; i < d.batch; ++i) {
        Eigen::Map<const MatrixRM<T>> g(c.grad_out().data<T>() + i * d.n * d.m, d.n, d.m);
        if (ga)
          gemm<true>(
              Eigen::Map<MatrixRM<T>>(ga->data<T>() + i * sa, d.n, d.k), g,
              Eigen::Map<const MatrixRM<T>>(c.in(1).data<T>() + i * sb, d.k, d.m).transpose());
        if (gb)
          gemm<true>(
              Eigen::Map<MatrixRM<T>>(gb->data<T>() + i * sb, d.k, d.m),
              Eigen::Map<const MatrixRM<T>>(c.in(0).data<T>() + i * sa, d.n, d.k).transpose(), g);
      }
    });
  });
}

namespace {
// x seen as (A, n0, B, n1, C) with d0 < d1; dst[a, j1, b, j0, c] (+)= src[a, j0, b, j1, c].
struct SwapDims {
  std::int64_t A = 1, n0 = 1, B = 1, n1 = 1, C = 1;
};

template <typename T, bool kAccumulate>
void swap_copy(const SwapDims& s, const T* src, T* dst) {
  for (std::int64_t a = 0; a < s.A; ++a)
    for (std::int64_t j1 = 0; j1 < s.n1; ++j1)
      for (std::int64_t b = 0; b < s.B; ++b)
        for (std::int64_t j0 = 0; j0 < s.n0; ++j0) {
          const T* in = src + (((a * s.n0 + j0) * s.B + b) * s.n1 + j1) * s.C;
          T* out = dst + (((a * s.n1 + j1) * s.B + b) * s.n0 + j0) * s.C;
          Eigen::Map<ArrayX<T>> o(out, s.C);
          if constexpr (kAccumulate)
            o += Eigen::Map<const ArrayX<T>>(in, s.C);
          else
            o = Eigen::Map<const ArrayX<T>>(in, s.C);
        }
}
}  // namespace

// y = x with dims d0 and d1 swapped (a copy).   gx = g with the same dims swapped back.
Tensor transpose(const Tensor& x, std::int64_t d0, std::int64_t d1) {
  const TensorImpl& ix = impl_of(x, "transpose");
  const auto r = static_cast<std::int64_t>(ix.shape.size());
  d0 = normalize_dim("transpose", d0, r);
  d1 = normalize_dim("transpose", d1, r);
  if (d0 == d1 || r < 2) return x.clone();
  if (d0 > d1) std::swap(d0, d1);
  SwapDims s;
  for (std::int64_t i = 0; i < r; ++i)
    (i < d0 ? s.A : i == d0 ? s.n0 : i < d1 ? s.B : i == d1 ? s.n1 : s.C) *= ix.shape[i];
  Shape out = ix.shape;
  std::swap(out[d0], out[d1]);
  // The backward swaps back: the same copy with the roles of n0 and n1 exchanged.
  SwapDims back = s;
  std::swap(back.n0, back.n1);
  return dispatch_all(ix.dtype, [&]<typename T>() {
    ImplPtr y = make_impl(out, ix.dtype);
    swap_copy<T, false>(s, ix.data<T>(), y->data<T>());
    return record("transpose", y, {x}, [back](BackwardCtx& c) {
      if (TensorImpl* gx = c.grad_in(0))
        swap_copy<T, true>(back, c.grad_out().data<T>(), gx->data<T>());
    });
  });
}

Tensor t(const Tensor& x) {
  if (x.dim() != 2)
    throw ShapeError(msg("t: expects a 2-D tensor: got shape ", shape_str(x.shape()),
                         "; use transpose(x, d0, d1)"));
  return transpose(x, 0, 1);
}

}  // namespace tapegrad

namespace tapegrad {

// y = x w^T + b       x: (N, n_in) (leading dims flattened)  w: (n_out, n_in)  b: (n_out)
// gx += g w           gw += g^T x                             gb += column sums of g
// One GEMM on row-major maps: w^T is a view, never materialised.
Tensor linear(const Tensor& x0, const Tensor& w0, const Tensor& b0) {
  const TensorImpl &ix = impl_of(x0, "linear"), &iw = impl_of(w0, "linear");
  check_floating("linear", ix);
  check_rank("linear", "w", iw, 2);
  const bool has_bias = b0.defined();
  if (ix.shape.empty() || ix.shape.back() != iw.shape[1])
    throw ShapeError(msg("linear: feature sizes differ: x is ", shape_str(ix.shape), ", w is ",
                         shape_str(iw.shape), " (x's last dim must equal w's second)"));
  if (has_bias &&
      (impl_of(b0, "linear").shape.size() != 1 || impl_ptr(b0)->shape[0] != iw.shape[0]))
    throw ShapeError(msg("linear: b must be (", iw.shape[0], "): got ", shape_str(b0.shape())));
  const Dtype d = iw.dtype;
  if (!is_floating(d)) check_floating("linear", iw);
  Tensor x = ix.dtype == d ? x0 : x0.to(d);
  Tensor b = !has_bias || b0.dtype() == d ? b0 : b0.to(d);
  const std::int64_t n_in = iw.shape[1], n_out = iw.shape[0],
                     N = ix.numel / std::max<std::int64_t>(n_in, 1);
  Shape out = ix.shape;
  out.back() = n_out;
  return dispatch_float(d, "linear", [&]<typename T>() {
    ImplPtr y = make_impl(std::move(out), d);
    auto ym = mat<T>(*y, N, n_out);
    gemm<false>(ym, cmat<T>(*impl_ptr(x), N, n_in), cmat<T>(iw, n_out, n_in).transpose());
    if (has_bias) ym.rowwise() += cmat<T>(*impl_ptr(b), 1, n_out).row(0);
    // Sizes come from the saved inputs: a capture-free closure never allocates.
    BackwardClosure back = [](BackwardCtx& c) {
      const std::int64_t n_out = c.in(1).shape[0], n_in = c.in(1).shape[1];
      const std::int64_t N = c.in(0).numel / std::max<std::int64_t>(n_in, 1);
      auto g = cmat<T>(c.grad_out(), N, n_out);
      if (TensorImpl* gx = c.grad_in(0))
        gemm<true>(mat<T>(*gx, N, n_in), g, cmat<T>(c.in(1), n_out, n_in));
      if (TensorImpl* gw = c.grad_in(1))
        gemm<true>(mat<T>(*gw, n_out, n_in), g.transpose(), cmat<T>(c.in(0), N, n_in));
      if (c.node.inputs.size() > 2)
        if (TensorImpl* gb = c.grad_in(2)) mat<T>(*gb, 1, n_out) += g.colwise().sum();
    };
    return has_bias ? record("linear", y, {x, w0, b}, std::move(back))
                    : record("linear", y, {x, w0}, std::move(back));
  });
}

}  // namespace tapegrad
