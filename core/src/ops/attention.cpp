// scaled_dot_product_attention: per batch element, the scores q k^T into the weights' buffer,
// one pass over each row (scale, mask, causal cut, softmax, dropout), then the product with v.
// Legend: Bn batch elements, L queries, S keys, E features of q and k, Ev of v; P the softmax
// (L, S) of a batch element, D its dropout factors (0 or 1/(1-p)), W = P * D the weights used.
// The result is recorded as one flat tensor (the output, then the weights when asked for),
// since a tape entry has one output; the op hands out its parts. multi_head_attention runs the
// same kernel over heads read in place: batch element b = (n, h) is a strided block of q, k, v
// and the output (a Walk), so MultiheadAttention's projections need no transposes.
#include "tapegrad/core/ops/attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "autograd/tape.h"
#include "kernels/dispatch.h"
#include "kernels/gemm.h"
#include "kernels/softmax_row.h"
#include "runtime/parallel_chunks.h"
#include "tapegrad/core/ops.h"
#include "tensor/check.h"

namespace tapegrad {

namespace {

constexpr const char* kOp = "scaled_dot_product_attention";

struct Dims {
  std::int64_t batch, L, S, E, Ev;
};

// Where batch element b's matrix lies in a tensor: b = n * heads + h starts at n * n_stride +
// h * width, and its rows are row apart. A contiguous (Bn, rows, cols) tensor has heads 1,
// n_stride rows * cols and row cols.
struct Walk {
  std::int64_t heads, n_stride, width, row;
  std::int64_t at(std::int64_t b) const { return (b / heads) * n_stride + (b % heads) * width; }
};

// q, k, v and the output (and so their gradients, laid out alike).
struct Geometry {
  Dims d;
  Walk q, k, v, o;
};

template <typename T>
using Strided = Eigen::Map<MatrixRM<T>, 0, Eigen::OuterStride<>>;
template <typename T>
using CStrided = Eigen::Map<const MatrixRM<T>, 0, Eigen::OuterStride<>>;

// Element b's (rows x cols) matrix of a tensor walked by w.
template <typename T>
Strided<T> block(T* p, const Walk& w, std::int64_t b, std::int64_t rows, std::int64_t cols) {
  return Strided<T>(p + w.at(b), rows, cols, Eigen::OuterStride<>(w.row));
}
template <typename T>
CStrided<T> block(const T* p, const Walk& w, std::int64_t b, std::int64_t rows, std::int64_t cols) {
  return CStrided<T>(p + w.at(b), rows, cols, Eigen::OuterStride<>(w.row));
}

// What the backward pass reads.
struct AttentionSaved {
  Geometry g;
  double scale;
  ImplPtr P;       // (Bn, L, S) the softmax
  ImplPtr factor;  // (Bn, L, S) dropout's factors, or null without dropout
  bool weights;    // the weights are part of the result
};

// Where the batch elements of q, k, v and the output lie, for the recorded form: contiguous
// (Bn, rows, cols) blocks (n = 0: scaled_dot_product_attention), or multi_head_attention's
// heads side by side in the last dim, batch (n of it) first or time first.
struct HeadsOf {
  std::int64_t n = 0, heads = 1;
  bool batch_first = false;
};

// x (in its layout, or flat) as (Bn, rows, cols), recorded.
Tensor batched(const Tensor& x, const HeadsOf& h, std::int64_t Bn, std::int64_t rows,
               std::int64_t cols) {
  if (h.n == 0) return x.reshape({Bn, rows, cols});
  if (h.batch_first)
    return permute(x.reshape({h.n, rows, h.heads, cols}), {0, 2, 1, 3}).reshape({Bn, rows, cols});
  return permute(x.reshape({rows, h.n, h.heads, cols}), {1, 2, 0, 3}).reshape({Bn, rows, cols});
}

// batched's inverse: x3 (Bn, rows, cols) back in the layout, of that shape.
Tensor unbatched(const Tensor& x3, const HeadsOf& h, std::int64_t rows, std::int64_t cols,
                 const Shape& shape) {
  if (h.n == 0) return x3.reshape(shape);
  const Tensor x4 = x3.reshape({h.n, h.heads, rows, cols});
  return permute(x4, h.batch_first ? std::vector<std::int64_t>{0, 2, 1, 3}
                                   : std::vector<std::int64_t>{2, 0, 1, 3})
      .reshape(shape);
}

// The backward in recorded ops, for create_graph: P recomputed from q and k (so q's and k's
// second derivatives come through the softmax), then the fast kernel's formulas. mask is the
// checked additive mask (or undefined), read again here: mask_version is its storage's version
// when the attention ran, so that a mask changed in place since is refused, as a saved input is.
void attention_graph(GraphCtx& c, const AttentionSaved& sv, const HeadsOf& h, const Tensor& mask,
                     std::uint32_t mask_version, bool causal) {
  if (mask.defined() && impl_ptr(mask)->storage->version != mask_version)
    throw StateError(msg(kOp,
                         ": attn_mask was modified in place after the attention ran; its "
                         "create_graph derivative needs it as it was (clone it first)"));
  const Geometry& g = sv.g;
  const std::int64_t Bn = g.d.batch, L = g.d.L, S = g.d.S, E = g.d.E, Ev = g.d.Ev;
  const std::int64_t out_n = Bn * L * Ev;
  const Tensor q = batched(c.in(0), h, Bn, L, E), k = batched(c.in(1), h, Bn, S, E),
               v = batched(c.in(2), h, Bn, S, Ev), gy = c.grad_out();
  Tensor scores = matmul(q, transpose(k, 1, 2)) * sv.scale;
  if (mask.defined()) scores = scores + (mask.dim() == 2 ? mask : mask.reshape({Bn, L, S}));
  if (causal)
    scores = masked_fill(scores, triu(ones({L, S}, {.dtype = scores.dtype()}), 1),
                         -std::numeric_limits<double>::infinity());
  const Tensor P = softmax(scores, -1);
  const Tensor F = sv.factor ? Tensor(sv.factor) : Tensor();
  const Tensor gO = batched(sv.weights ? narrow(gy, 0, 0, out_n) : gy, h, Bn, L, Ev);
  if (c.needs(2))
    c.add(2, unbatched(matmul(transpose(F.defined() ? P * F : P, 1, 2), gO), h, S, Ev,
                       c.in(2).shape()));
  if (!c.needs(0) && !c.needs(1)) return;
  Tensor dW = matmul(gO, transpose(v, 1, 2));  // dL/dW, then dL/dP
  if (sv.weights) dW = dW + narrow(gy, 0, out_n, Bn * L * S).reshape({Bn, L, S});
  if (F.defined()) dW = dW * F;
  const Tensor dS = P * (dW - sum(dW * P, -1, true)) * sv.scale;
  if (c.needs(0)) c.add(0, unbatched(matmul(dS, k), h, L, E, c.in(0).shape()));
  if (c.needs(1)) c.add(1, unbatched(matmul(transpose(dS, 1, 2), q), h, S, E, c.in(1).shape()));
}

// Row i of a batch element's scores becomes its softmax: scaled, masked (mask: its (L, S), or
// null), cut after column i when causal.
template <typename T>
void softmax_rows(T* s, const T* mask, std::int64_t L, std::int64_t S, T scale, bool causal) {
  constexpr T kNegInf = -std::numeric_limits<T>::infinity();
  if (S == 0) return;  // no keys: nothing to weigh (the output is then zero, as torch's)
  for (std::int64_t i = 0; i < L; ++i) {
    Eigen::Map<ArrayX<T>> row(s + i * S, S);
    row *= scale;
    if (mask) row += Eigen::Map<const ArrayX<T>>(mask + i * S, S);
    if (causal)
      for (std::int64_t j = i + 1; j < S; ++j) row[j] = kNegInf;
    softmax_row_flushed(row, row);  // a row shut out entirely gives NaN, as torch's
  }
}

// The additive mask as dtype dt, checked: (L, S) for every batch element, or batch_shape then
// (L, S) (per_batch set). Undefined when none is given.
Tensor checked_mask(const AttentionOptions& o, const Shape& batch_shape, std::int64_t L,
                    std::int64_t S, Dtype dt, bool& per_batch) {
  per_batch = false;
  if (!o.attn_mask.defined()) return {};
  const TensorImpl& im = impl_of(o.attn_mask, kOp);
  if (!is_floating(im.dtype))
    throw ValueError(msg(kOp,
                         ": attn_mask must be an additive float mask (-inf shuts a key "
                         "out): got ",
                         dtype_name(im.dtype)));
  if (o.attn_mask.requires_grad())
    throw ValueError(msg(kOp, ": attn_mask gets no gradient; detach() it"));
  Shape full = batch_shape;
  full.insert(full.end(), {L, S});
  per_batch = im.shape == full;
  if (!per_batch && im.shape != Shape{L, S})
    throw ShapeError(msg(kOp, ": attn_mask must be ", shape_str(Shape{L, S}), " or ",
                         shape_str(full), ": got ", shape_str(im.shape)));
  return im.dtype == dt ? o.attn_mask : o.attn_mask.to(dt);
}

// The whole op over checked inputs: the packed result (the output laid out as g.o says, then
// the weights (Bn, L, S) when asked for), recorded.
Tensor attend(const Tensor& q, const Tensor& k, const Tensor& v, const Geometry& g,
              const AttentionOptions& o, const Shape& batch_shape, const HeadsOf& heads) {
  const TensorImpl &iq = impl_of(q, kOp), &ik = impl_of(k, kOp), &iv = impl_of(v, kOp);
  const Dtype dt = iq.dtype;
  // Named copies, not a structured binding: clang 16 cannot capture those in OpenMP regions.
  const std::int64_t Bn = g.d.batch, L = g.d.L, S = g.d.S, E = g.d.E, Ev = g.d.Ev;
  if (!(o.dropout_p >= 0 && o.dropout_p <= 1))
    throw ValueError(msg(kOp, ": dropout_p must be in [0, 1]: got ", o.dropout_p));
  bool mask_per_batch = false;
  const Tensor mask = checked_mask(o, batch_shape, L, S, dt, mask_per_batch);
  const std::int64_t scores = checked_mul(checked_mul(Bn, L, kOp), S, kOp);
  const bool dropout = o.dropout_p > 0;
  Tensor draws;  // uniform draws, turned into dropout's factors in place
  if (dropout) draws = rand({Bn, L, S}, {.dtype = dt}, o.gen);
  // E = 0: torch divides an empty q, so its scores are 0 (uniform weights), not 0 * inf.
  const double scale = o.scale.value_or(E > 0 ? 1 / std::sqrt(static_cast<double>(E)) : 1.0);
  const std::int64_t out_n = checked_mul(checked_mul(Bn, L, kOp), Ev, kOp);
  const std::int64_t total = checked_add(out_n, o.need_weights ? scores : 0, kOp);

  return dispatch_float(dt, kOp, [&]<typename T>() {
    AttentionSaved sv{g, scale, make_impl({Bn, L, S}, dt), dropout ? impl_ptr(draws) : nullptr,
                      o.need_weights};
    // Where the weights used go: the result's second part, else (with dropout) scratch.
    const ImplPtr scratch = dropout && !o.need_weights ? make_impl({Bn, L, S}, dt) : nullptr;
    ImplPtr out = make_impl({total}, dt);
    const T* qp = iq.data<T>();
    const T* kp = ik.data<T>();
    const T* vp = iv.data<T>();
    const T* mp = mask.defined() ? impl_ptr(mask)->data<T>() : nullptr;
    const T p = static_cast<T>(o.dropout_p);
    const T keep_scale = o.dropout_p < 1 ? T(1) / (T(1) - p) : T(0);
    parallel_chunks(
        Bn,
        [&](std::int64_t b0, std::int64_t b1) {
          for (std::int64_t b = b0; b < b1; ++b) {
            T* P = sv.P->data<T>() + b * L * S;
            auto Pm = Eigen::Map<MatrixRM<T>>(P, L, S);
            gemm<false>(Pm, block(qp, g.q, b, L, E), block(kp, g.k, b, S, E).transpose());
            softmax_rows<T>(P, mp ? mp + (mask_per_batch ? b * L * S : 0) : nullptr, L, S,
                            static_cast<T>(scale), o.is_causal);
            const T* W = P;
            T* w = o.need_weights ? out->data<T>() + out_n + b * L * S
                   : dropout      ? scratch->data<T>() + b * L * S
                                  : nullptr;
            if (dropout) {  // the draws become factors, then the weights used
              auto f = Eigen::Map<ArrayX<T>>(sv.factor->data<T>() + b * L * S, L * S);
              f = (f >= p).template cast<T>() * keep_scale;
              Eigen::Map<ArrayX<T>>(w, L * S) = Eigen::Map<const ArrayX<T>>(P, L * S) * f;
              W = w;
            } else if (w) {
              std::copy_n(P, L * S, w);
            }
            gemm<false>(block(out->data<T>(), g.o, b, L, Ev),
                        Eigen::Map<const MatrixRM<T>>(W, L, S), block(vp, g.v, b, S, Ev));
          }
        },
        L * S * (E + Ev));
    auto graph = [sv, heads, mask, causal = o.is_causal,
                  version = mask.defined() ? impl_ptr(mask)->storage->version : 0u](GraphCtx& c) {
      attention_graph(c, sv, heads, mask, version, causal);
    };
    return record(
        kOp, std::move(out), {q, k, v},
        WithGraph{[sv](BackwardCtx& c) {
                    const Geometry& g = sv.g;
                    const std::int64_t Bn = g.d.batch, L = g.d.L, S = g.d.S, E = g.d.E, Ev = g.d.Ev;
                    const Dtype dt = c.grad_out().dtype;
                    TensorImpl *gq = c.grad_in(0), *gk = c.grad_in(1), *gv = c.grad_in(2);
                    const ImplPtr dP =
                        make_impl({Bn, L, S}, dt);  // each element's dL/dW, then dL/dscores
                    const T* gp = c.grad_out().data<T>();
                    const T* qp = c.in(0).data<T>();
                    const T* kp = c.in(1).data<T>();
                    const T* vp = c.in(2).data<T>();
                    const std::int64_t out_n = Bn * L * Ev;
                    parallel_chunks(
                        Bn,
                        [&](std::int64_t b0, std::int64_t b1) {
                          for (std::int64_t b = b0; b < b1; ++b) {
                            const std::int64_t at = b * L * S;
                            const T* P = sv.P->data<T>() + at;
                            const T* F = sv.factor ? sv.factor->data<T>() + at : nullptr;
                            const auto gy = block(gp, g.o, b, L, Ev);
                            auto dW = Eigen::Map<MatrixRM<T>>(dP->data<T>() + at, L, S);
                            if (gv) {  // v's gradient first: with dropout, dP's block holds W = P *
                                       // F till then
                              const T* W = P;
                              if (F) {
                                dW.array() = Eigen::Map<const MatrixRM<T>>(P, L, S).array() *
                                             Eigen::Map<const MatrixRM<T>>(F, L, S).array();
                                W = dP->data<T>() + at;
                              }
                              gemm<true>(block(gv->data<T>(), g.v, b, S, Ev),
                                         Eigen::Map<const MatrixRM<T>>(W, L, S).transpose(), gy);
                            }
                            gemm<false>(dW, gy, block(vp, g.v, b, S, Ev).transpose());
                            if (sv.weights)
                              dW += Eigen::Map<const MatrixRM<T>>(gp + out_n + at, L, S);
                            auto ds = Eigen::Map<ArrayX<T>>(dP->data<T>() + at, L * S);
                            if (F) ds *= Eigen::Map<const ArrayX<T>>(F, L * S);
                            for (std::int64_t i = 0; i < L;
                                 ++i) {  // the softmax's backward, then the scale
                              Eigen::Map<ArrayX<T>> r(dP->data<T>() + at + i * S, S);
                              const Eigen::Map<const ArrayX<T>> pr(P + i * S, S);
                              r = softmax_row_backward(r, pr) * static_cast<T>(sv.scale);
                              flush_subnormal(r);
                            }
                            const auto dS = Eigen::Map<const MatrixRM<T>>(dP->data<T>() + at, L, S);
                            if (gq)
                              gemm<true>(block(gq->data<T>(), g.q, b, L, E), dS,
                                         block(kp, g.k, b, S, E));
                            if (gk)
                              gemm<true>(block(gk->data<T>(), g.k, b, S, E), dS.transpose(),
                                         block(qp, g.q, b, L, E));
                          }
                        },
                        L * S * (E + Ev) * 2);
                  },
                  std::move(graph)});
  });
}

// q, k and v floating, of one dtype and one rank (at least min_rank).
void check_inputs(const Tensor& q, const Tensor& k, const Tensor& v, std::size_t min_rank) {
  const TensorImpl &iq = impl_of(q, kOp), &ik = impl_of(k, kOp), &iv = impl_of(v, kOp);
  check_floating(kOp, iq);
  const std::size_t rank = iq.shape.size();
  if (rank < min_rank || ik.shape.size() != rank || iv.shape.size() != rank)
    throw ShapeError(msg(kOp, ": q, k and v must have the same rank, ",
                         min_rank == 3 ? "3" : "at least 2", ": got ", shape_str(iq.shape), ", ",
                         shape_str(ik.shape), ", ", shape_str(iv.shape)));
  for (const TensorImpl* t : {&ik, &iv})
    if (t->dtype != iq.dtype)
      throw ValueError(
          msg(kOp, ": q is ", dtype_name(iq.dtype), " but k or v is ", dtype_name(t->dtype)));
}

}  // namespace

AttentionResult scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                             const AttentionOptions& o) {
  check_inputs(q, k, v, 2);
  const Shape &qs = q.shape(), &ks = k.shape(), &vs = v.shape();
  const std::size_t rank = qs.size();
  const Shape batch(qs.begin(), qs.end() - 2);
  const std::int64_t L = qs[rank - 2], E = qs[rank - 1], S = ks[rank - 2], Ev = vs[rank - 1];
  if (Shape(ks.begin(), ks.end() - 2) != batch || Shape(vs.begin(), vs.end() - 2) != batch ||
      ks[rank - 1] != E || vs[rank - 2] != S)
    throw ShapeError(msg(kOp, ": q ", shape_str(qs), ", k ", shape_str(ks), ", v ", shape_str(vs),
                         ": expected (..., L, E), (..., S, E), (..., S, Ev) "
                         "with the same batch dims"));
  std::int64_t Bn = 1;
  for (std::int64_t b : batch) Bn = checked_mul(Bn, b, kOp);  // a 0-sized dim hides no overflow
  const Geometry g{{Bn, L, S, E, Ev},
                   {1, L * E, 0, E},
                   {1, S * E, 0, E},
                   {1, S * Ev, 0, Ev},
                   {1, L * Ev, 0, Ev}};
  const Tensor packed = attend(q, k, v, g, o, batch, {});
  Shape out_shape = batch, w_shape = batch;
  out_shape.insert(out_shape.end(), {L, Ev});
  w_shape.insert(w_shape.end(), {L, S});
  const std::int64_t out_n = Bn * L * Ev;
  AttentionResult r;
  // Without the weights the packed result is the output: a view, not a copy.
  r.output =
      o.need_weights ? narrow(packed, 0, 0, out_n).reshape(out_shape) : packed.reshape(out_shape);
  if (o.need_weights) r.weights = narrow(packed, 0, out_n, Bn * L * S).reshape(w_shape);
  return r;
}

AttentionResult multi_head_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                     const HeadsLayout& layout, const AttentionOptions& o) {
  check_inputs(q, k, v, 3);
  const Shape &qs = q.shape(), &ks = k.shape(), &vs = v.shape();
  const std::int64_t H = layout.num_heads;
  const bool bf = layout.batch_first;
  const std::int64_t N = qs[bf ? 0 : 1], L = qs[bf ? 1 : 0], S = ks[bf ? 1 : 0];
  if (H < 1 || qs[2] % H != 0 || vs[2] % H != 0 || ks[2] != qs[2] || ks[bf ? 0 : 1] != N ||
      vs[bf ? 0 : 1] != N || vs[bf ? 1 : 0] != S)
    throw ShapeError(msg(kOp, ": q ", shape_str(qs), ", k ", shape_str(ks), ", v ", shape_str(vs),
                         " in ", H, " heads: expected ",
                         bf ? "(N, L, H * E), (N, S, H * E), (N, S, H * Ev)"
                            : "(L, N, H * E), (S, N, H * E), (S, N, H * Ev)",
                         " with H >= 1"));
  const std::int64_t E = qs[2] / H, Ev = vs[2] / H, Bn = checked_mul(N, H, kOp);
  // Batch entry n starts n * (its rows x the full width) in, or one row of width in, time first.
  auto walk = [&](std::int64_t rows, std::int64_t width) {
    const std::int64_t full = H * width;
    return bf ? Walk{H, rows * full, width, full} : Walk{H, full, width, N * full};
  };
  const Geometry g{{Bn, L, S, E, Ev}, walk(L, E), walk(S, E), walk(S, Ev), walk(L, Ev)};
  const Tensor packed = attend(q, k, v, g, o, {N, H}, {N, H, bf});
  const Shape out_shape = bf ? Shape{N, L, H * Ev} : Shape{L, N, H * Ev};
  const std::int64_t out_n = Bn * L * Ev;
  AttentionResult r;
  r.output =
      o.need_weights ? narrow(packed, 0, 0, out_n).reshape(out_shape) : packed.reshape(out_shape);
  if (o.need_weights) r.weights = narrow(packed, 0, out_n, Bn * L * S).reshape({N, H, L, S});
  return r;
}

}  // namespace tapegrad
