// Matrix products (through gemm.h: one single-threaded GEMM per thread on row-major maps, no
// copies to change layout, no materialised transposes), and transposition.
// Legend: a (n x k), b (k x m), y = a b (n x m); batched forms carry a leading batch dim B.
#include <algorithm>

#include "autograd/tape.h"
#include "kernels/broadcast.h"
#include "kernels/dispatch.h"
#include "kernels/elementwise.h"
#include "kernels/gemm.h"
#include "tapegrad/core/ops.h"
#include "tensor/check.h"

namespace tapegrad {

namespace {
// torch.matmul's shapes: a 1-D a is a row (1, k) and a 1-D b a column (k, 1), their unit dim
// removed from the result; the dims before the last two broadcast as NumPy's do. sa and sb
// are each operand's element step per dim of that batch (0 where it broadcasts, so several
// entries share one matrix); all inline Shapes, so a product allocates nothing for them.
struct MatmulDims {
  std::int64_t n = 0, k = 0, m = 0;
  Shape out, batch, sa, sb;

  // f(i, a_at, b_at) for each batch entry i, with the offsets of its matrices in a and b.
  template <typename F>
  void each(F&& f) const {
    const std::int64_t count = shape_numel(batch);
    const std::size_t r = batch.size();
    Shape idx(r, 0);
    std::int64_t oa = 0, ob = 0;
    for (std::int64_t i = 0; i < count; ++i) {
      f(i, oa, ob);
      for (std::size_t j = r; j-- > 0;) {  // the odometer over the batch index
        oa += sa[j];
        ob += sb[j];
        if (++idx[j] < batch[j]) break;
        oa -= sa[j] * batch[j];
        ob -= sb[j] * batch[j];
        idx[j] = 0;
      }
    }
  }
};

MatmulDims matmul_dims(const char* op, const TensorImpl& a, const TensorImpl& b,
                       MatmulOptions opts) {
  const std::size_t ra = a.shape.size(), rb = b.shape.size();
  auto shapes = [&] {
    return msg(op, ": ", shape_str(a.shape), opts.transpose_a ? "^T" : "", " x ",
               shape_str(b.shape), opts.transpose_b ? "^T" : "");
  };
  if (ra == 0 || rb == 0)
    throw ShapeError(msg(shapes(), ": both operands need at least one dim (0-d: use mul)"));
  if ((opts.transpose_a && ra < 2) || (opts.transpose_b && rb < 2))
    throw ShapeError(msg(shapes(), ": an operand read transposed needs at least two dims"));
  MatmulDims d;
  d.n = ra == 1 ? 1 : a.shape[ra - (opts.transpose_a ? 1 : 2)];
  d.k = a.shape[ra - (opts.transpose_a ? 2 : 1)];
  d.m = rb == 1 ? 1 : b.shape[rb - (opts.transpose_b ? 2 : 1)];
  const std::int64_t kb = rb == 1 ? b.shape[0] : b.shape[rb - (opts.transpose_b ? 1 : 2)];
  if (kb != d.k) throw ShapeError(msg(shapes(), ": inner sizes differ (", d.k, " vs ", kb, ")"));
  const Shape batch_a(a.shape.begin(),
                      a.shape.end() - static_cast<std::ptrdiff_t>(std::min<std::size_t>(ra, 2)));
  const Shape batch_b(b.shape.begin(),
                      b.shape.end() - static_cast<std::ptrdiff_t>(std::min<std::size_t>(rb, 2)));
  Shape batch;
  try {
    batch = broadcast_shapes(op, batch_a, batch_b);
  } catch (const ShapeError&) {
    throw ShapeError(msg(shapes(), ": batch dims ", shape_str(batch_a), " and ", shape_str(batch_b),
                         " do not broadcast"));
  }
  d.out = batch;
  if (ra > 1) d.out.push_back(d.n);
  if (rb > 1) d.out.push_back(d.m);
  const std::size_t r = batch.size();
  auto steps = [&](const Shape& own, std::int64_t matrix) {
    Shape st(r, 0);
    std::int64_t step = matrix;
    for (std::size_t j = 0; j < own.size(); ++j) {
      const std::size_t k = own.size() - 1 - j, kk = r - 1 - j;
      st[kk] = own[k] == 1 ? 0 : step;
      step *= own[k];
    }
    return st;
  };
  d.batch = batch;
  d.sa = steps(batch_a, d.n * d.k);
  d.sb = steps(batch_b, d.k * d.m);
  return d;
}

// f(the rows x cols matrix at p), or f(its transpose) when p holds it transposed (cols x rows):
// an Eigen view either way, never a copy.
template <typename T, typename F>
void as_matrix(const T* p, std::int64_t rows, std::int64_t cols, bool transposed, F&& f) {
  if (transposed)
    f(Eigen::Map<const MatrixRM<T>>(p, cols, rows).transpose());
  else
    f(Eigen::Map<const MatrixRM<T>>(p, rows, cols));
}

}  // namespace

// y_i = A_i B_i for each entry i of the broadcast batch (torch.matmul), A = a or a^T, B = b or
// b^T as opts say.   gA_i += g_i B_i^T   gB_i += A_i^T g_i, written transposed into ga (gb)
// when a (b) is read transposed (ga_i += B_i g_i^T, gb_i += g_i^T A_i); summed over the
// entries that share a matrix.
Tensor matmul(const Tensor& a0, const Tensor& b0, MatmulOptions opts) {
  const TensorImpl &ia0 = impl_of(a0, "matmul"), &ib0 = impl_of(b0, "matmul");
  check_floating("matmul", ia0);
  check_floating("matmul", ib0);
  const MatmulDims d = matmul_dims("matmul", ia0, ib0, opts);
  const Promoted p("matmul", a0, b0);
  const Tensor &a = p.a, &b = p.b;
  const TensorImpl &ia = *impl_ptr(a), &ib = *impl_ptr(b);
  return dispatch_float(ia.dtype, "matmul", [&]<typename T>() {
    ImplPtr y = make_impl(d.out, ia.dtype);
    const std::int64_t n = d.n, k = d.k, m = d.m;
    d.each([&](std::int64_t i, std::int64_t a_at, std::int64_t b_at) {
      Eigen::Map<MatrixRM<T>> yi(y->data<T>() + i * n * m, n, m);
      as_matrix(ia.data<T>() + a_at, n, k, opts.transpose_a, [&](const auto& A) {
        as_matrix(ib.data<T>() + b_at, k, m, opts.transpose_b,
                  [&](const auto& B) { gemm<false>(yi, A, B); });
      });
    });
    auto back = [d, opts](BackwardCtx& c) {
      TensorImpl* ga = c.grad_in(0);
      TensorImpl* gb = c.grad_in(1);
      const std::int64_t n = d.n, k = d.k, m = d.m;
      d.each([&](std::int64_t i, std::int64_t a_at, std::int64_t b_at) {
        Eigen::Map<const MatrixRM<T>> g(c.grad_out().data<T>() + i * n * m, n, m);
        if (ga)
          as_matrix(c.in(1).data<T>() + b_at, k, m, opts.transpose_b, [&](const auto& B) {
            if (opts.transpose_a)
              gemm<true>(Eigen::Map<MatrixRM<T>>(ga->data<T>() + a_at, k, n), B, g.transpose());
            else
              gemm<true>(Eigen::Map<MatrixRM<T>>(ga->data<T>() + a_at, n, k), g, B.transpose());
          });
        if (gb)
          as_matrix(c.in(0).data<T>() + a_at, n, k, opts.transpose_a, [&](const auto& A) {
            if (opts.transpose_b)
              gemm<true>(Eigen::Map<MatrixRM<T>>(gb->data<T>() + b_at, m, k), g.transpose(), A);
            else
              gemm<true>(Eigen::Map<MatrixRM<T>>(gb->data<T>() + b_at, k, m), A.transpose(), g);
          });
      });
    };
    // create_graph: the same products as recorded matmuls. A 1-D operand is a matrix with a
    // dim of 1 inserted (as the forward treats it), the gradient reshaped to match; batch dims
    // that broadcasting stretched are summed back.
    auto graph = [opts](GraphCtx& c) {
      const Tensor a = c.in(0), b = c.in(1);
      const bool a1 = a.dim() == 1, b1 = b.dim() == 1;
      Shape o = c.grad_out().shape();
      if (a1) o.insert(o.end() - (b1 ? 0 : 1), 1);
      if (b1) o.push_back(1);
      const Tensor A = a1 ? unsqueeze(a, 0) : a, B = b1 ? unsqueeze(b, 1) : b;
      const Tensor G = reshape(c.grad_out(), o);
      const bool ta = opts.transpose_a, tb = opts.transpose_b;
      if (c.needs(0)) {
        const Tensor ga = ta ? matmul(B, G, {.transpose_a = tb, .transpose_b = true})
                             : matmul(G, B, {.transpose_b = !tb});
        c.add(0, reshape(sum_to(ga, A.shape()), a.shape()));
      }
      if (c.needs(1)) {
        const Tensor gb = tb ? matmul(G, A, {.transpose_a = true, .transpose_b = ta})
                             : matmul(A, G, {.transpose_a = !ta});
        c.add(1, reshape(sum_to(gb, B.shape()), b.shape()));
      }
    };
    return record("matmul", std::move(y), {a, b}, WithGraph{std::move(back), std::move(graph)});
  });
}

// torch.bmm: (B, n, k) x (B, k, m) -> (B, n, m), no broadcasting.
Tensor bmm(const Tensor& a, const Tensor& b) {
  const TensorImpl &ia = impl_of(a, "bmm"), &ib = impl_of(b, "bmm");
  if (ia.shape.size() != 3 || ib.shape.size() != 3 || ia.shape[0] != ib.shape[0])
    throw ShapeError(msg("bmm: ", shape_str(ia.shape), " x ", shape_str(ib.shape),
                         ": expects 3-D tensors with the same batch size"));
  return matmul(a, b);
}

namespace {
// x seen as (A, n0, B, n1, C) with d0 < d1; dst[a, j1, b, j0, c] (+)= src[a, j0, b, j1, c].
struct SwapDims {
  std::int64_t A = 1, n0 = 1, B = 1, n1 = 1, C = 1;
};

template <typename T, bool kAccumulate>
void swap_copy(const SwapDims& s, const T* src, T* dst) {
  if (s.B == 1 && s.C == 1) {
    // Adjacent dims with nothing after them (a matrix transpose, as attention's k^T): one
    // blocked Eigen transpose per matrix instead of runs of a single element.
    for (std::int64_t a = 0; a < s.A; ++a) {
      Eigen::Map<MatrixRM<T>> out(dst + a * s.n0 * s.n1, s.n1, s.n0);
      Eigen::Map<const MatrixRM<T>> in(src + a * s.n0 * s.n1, s.n0, s.n1);
      if constexpr (kAccumulate)
        out += in.transpose();
      else
        out = in.transpose();
    }
    return;
  }
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
    return record("transpose", std::move(y), {x},
                  WithGraph{[back](BackwardCtx& c) {
                              if (TensorImpl* gx = c.grad_in(0))
                                swap_copy<T, true>(back, c.grad_out().data<T>(), gx->data<T>());
                            },
                            [d0, d1](GraphCtx& c) {
                              if (c.needs(0)) c.add(0, transpose(c.grad_out(), d0, d1));
                            }});
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
    auto back = [](BackwardCtx& c) {
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
    // create_graph: the same products as recorded ops (x's leading dims flattened likewise).
    auto graph = [](GraphCtx& c) {
      const Tensor x = c.in(0), w = c.in(1);
      const std::int64_t n_out = w.size(0), n_in = w.size(1);
      const std::int64_t N = x.numel() / std::max<std::int64_t>(n_in, 1);
      const Tensor g = reshape(c.grad_out(), {N, n_out});
      if (c.needs(0)) c.add(0, reshape(matmul(g, w), x.shape()));
      if (c.needs(1)) c.add(1, matmul(g, reshape(x, {N, n_in}), {.transpose_a = true}));
      if (c.node.inputs.size() > 2 && c.needs(2)) c.add(2, sum(g, 0));
    };
    return has_bias ? record("linear", std::move(y), {x, w0, b}, WithGraph{back, graph})
                    : record("linear", std::move(y), {x, w0}, WithGraph{back, graph});
  });
}

}  // namespace tapegrad
