// scaled_dot_product_attention: per batch element, the scores q k^T into the weights' buffer,
// one pass over each row (scale, mask, causal cut, softmax, dropout), then the product with v.
// Legend: Bn batch elements, L queries, S keys, E features of q and k, Ev of v; P the softmax
// (L, S) of a batch element, D its dropout factors (0 or 1/(1-p)), W = P * D the weights used.
// The result is recorded as one flat tensor (the output, then the weights when asked for),
// since a tape entry has one output; the op hands out its parts.
#include "tapegrad/core/ops/attention.h"

#include <cmath>
#include <limits>
#include <utility>

#include "autograd/tape.h"
#include "kernels/dispatch.h"
#include "kernels/gemm.h"
#include "kernels/softmax_row.h"
#include "runtime/parallel_chunks.h"
#include "tapegrad/core/ops/shape.h"
#include "tensor/check.h"

namespace tapegrad {

namespace {

constexpr const char* kOp = "scaled_dot_product_attention";

struct Dims {
  std::int64_t batch, L, S, E, Ev;
};

// What the backward pass reads.
struct Saved {
  Dims d;
  double scale;
  ImplPtr P;       // (Bn, L, S) the softmax
  ImplPtr factor;  // (Bn, L, S) dropout's factors, or null without dropout
  bool weights;    // the weights are part of the result
};

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
    softmax_row(row, row);  // a row shut out entirely gives NaN, as torch's
  }
}

}  // namespace

AttentionResult scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                             const AttentionOptions& o) {
  const TensorImpl &iq = impl_of(q, kOp), &ik = impl_of(k, kOp), &iv = impl_of(v, kOp);
  check_floating(kOp, iq);
  const std::size_t rank = iq.shape.size();
  if (rank < 2 || ik.shape.size() != rank || iv.shape.size() != rank)
    throw ShapeError(msg(kOp, ": q, k and v must have the same rank, at least 2: got ",
                         shape_str(iq.shape), ", ", shape_str(ik.shape), ", ",
                         shape_str(iv.shape)));
  for (const TensorImpl* t : {&ik, &iv})
    if (t->dtype != iq.dtype)
      throw ValueError(
          msg(kOp, ": q is ", dtype_name(iq.dtype), " but k or v is ", dtype_name(t->dtype)));
  const Shape batch(iq.shape.begin(), iq.shape.end() - 2);
  const std::int64_t L = iq.shape[rank - 2], E = iq.shape[rank - 1], S = ik.shape[rank - 2],
                     Ev = iv.shape[rank - 1];
  if (Shape(ik.shape.begin(), ik.shape.end() - 2) != batch ||
      Shape(iv.shape.begin(), iv.shape.end() - 2) != batch || ik.shape[rank - 1] != E ||
      iv.shape[rank - 2] != S)
    throw ShapeError(msg(kOp, ": q ", shape_str(iq.shape), ", k ", shape_str(ik.shape), ", v ",
                         shape_str(iv.shape),
                         ": expected (..., L, E), (..., S, E), (..., S, Ev) "
                         "with the same batch dims"));
  if (!(o.dropout_p >= 0 && o.dropout_p <= 1))
    throw ValueError(msg(kOp, ": dropout_p must be in [0, 1]: got ", o.dropout_p));
  const Dtype dt = iq.dtype;
  std::int64_t Bn = 1;
  for (std::int64_t b : batch) Bn = checked_mul(Bn, b, kOp);  // a 0-sized dim hides no overflow
  const Dims d{Bn, L, S, E, Ev};
  const std::int64_t scores = checked_mul(checked_mul(Bn, L, kOp), S, kOp);

  Tensor mask;
  bool mask_per_batch = false;
  if (o.attn_mask.defined()) {
    const TensorImpl& im = impl_of(o.attn_mask, kOp);
    if (!is_floating(im.dtype))
      throw ValueError(msg(kOp,
                           ": attn_mask must be an additive float mask (-inf shuts a key "
                           "out): got ",
                           dtype_name(im.dtype)));
    if (o.attn_mask.requires_grad())
      throw ValueError(msg(kOp, ": attn_mask gets no gradient; detach() it"));
    Shape full = batch;
    full.insert(full.end(), {L, S});
    mask_per_batch = im.shape == full;
    if (!mask_per_batch && im.shape != Shape{L, S})
      throw ShapeError(msg(kOp, ": attn_mask must be ", shape_str(Shape{L, S}), " or ",
                           shape_str(full), ": got ", shape_str(im.shape)));
    mask = im.dtype == dt ? o.attn_mask : o.attn_mask.to(dt);
  }
  const bool dropout = o.dropout_p > 0;
  Tensor draws;  // uniform draws, turned into dropout's factors in place
  if (dropout) draws = rand({Bn, L, S}, {.dtype = dt}, o.gen);
  // E = 0: torch divides an empty q, so its scores are 0 (uniform weights), not 0 * inf.
  const double scale = o.scale.value_or(E > 0 ? 1 / std::sqrt(static_cast<double>(E)) : 1.0);
  const std::int64_t out_n = checked_mul(checked_mul(Bn, L, kOp), Ev, kOp);
  const std::int64_t total = checked_add(out_n, o.need_weights ? scores : 0, kOp);

  Tensor packed = dispatch_float(dt, kOp, [&]<typename T>() {
    Saved sv{d, scale, make_impl({Bn, L, S}, dt), dropout ? impl_ptr(draws) : nullptr,
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
            gemm<false>(Pm, Eigen::Map<const MatrixRM<T>>(qp + b * L * E, L, E),
                        Eigen::Map<const MatrixRM<T>>(kp + b * S * E, S, E).transpose());
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
            gemm<false>(Eigen::Map<MatrixRM<T>>(out->data<T>() + b * L * Ev, L, Ev),
                        Eigen::Map<const MatrixRM<T>>(W, L, S),
                        Eigen::Map<const MatrixRM<T>>(vp + b * S * Ev, S, Ev));
          }
        },
        L * S * (E + Ev));
    return record(kOp, std::move(out), {q, k, v}, [sv](BackwardCtx& c) {
      const std::int64_t Bn = sv.d.batch, L = sv.d.L, S = sv.d.S, E = sv.d.E, Ev = sv.d.Ev;
      const Dtype dt = c.grad_out().dtype;
      TensorImpl *gq = c.grad_in(0), *gk = c.grad_in(1), *gv = c.grad_in(2);
      const ImplPtr dP = make_impl({Bn, L, S}, dt);  // each element's dL/dW, then dL/dscores
      const T* g = c.grad_out().data<T>();
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
              const auto gy = Eigen::Map<const MatrixRM<T>>(g + b * L * Ev, L, Ev);
              const auto vb = Eigen::Map<const MatrixRM<T>>(vp + b * S * Ev, S, Ev);
              auto dW = Eigen::Map<MatrixRM<T>>(dP->data<T>() + at, L, S);
              if (gv) {  // v's gradient first: with dropout, dP's block holds W = P * F till then
                const T* W = P;
                if (F) {
                  dW.array() = Eigen::Map<const MatrixRM<T>>(P, L, S).array() *
                               Eigen::Map<const MatrixRM<T>>(F, L, S).array();
                  W = dP->data<T>() + at;
                }
                gemm<true>(Eigen::Map<MatrixRM<T>>(gv->data<T>() + b * S * Ev, S, Ev),
                           Eigen::Map<const MatrixRM<T>>(W, L, S).transpose(), gy);
              }
              gemm<false>(dW, gy, vb.transpose());
              if (sv.weights) dW += Eigen::Map<const MatrixRM<T>>(g + out_n + at, L, S);
              auto ds = Eigen::Map<ArrayX<T>>(dP->data<T>() + at, L * S);
              if (F) ds *= Eigen::Map<const ArrayX<T>>(F, L * S);
              for (std::int64_t i = 0; i < L; ++i) {  // the softmax's backward, then the scale
                Eigen::Map<ArrayX<T>> r(dP->data<T>() + at + i * S, S);
                const Eigen::Map<const ArrayX<T>> pr(P + i * S, S);
                r = softmax_row_backward(r, pr) * static_cast<T>(sv.scale);
              }
              const auto dS = Eigen::Map<const MatrixRM<T>>(dP->data<T>() + at, L, S);
              if (gq)
                gemm<true>(Eigen::Map<MatrixRM<T>>(gq->data<T>() + b * L * E, L, E), dS,
                           Eigen::Map<const MatrixRM<T>>(kp + b * S * E, S, E));
              if (gk)
                gemm<true>(Eigen::Map<MatrixRM<T>>(gk->data<T>() + b * S * E, S, E), dS.transpose(),
                           Eigen::Map<const MatrixRM<T>>(qp + b * L * E, L, E));
            }
          },
          L * S * (E + Ev) * 2);
    });
  });
  Shape out_shape = batch, w_shape = batch;
  out_shape.insert(out_shape.end(), {L, Ev});
  w_shape.insert(w_shape.end(), {L, S});
  AttentionResult r;
  // Without the weights the packed result is the output: a view, not a copy.
  r.output =
      o.need_weights ? narrow(packed, 0, 0, out_n).reshape(out_shape) : packed.reshape(out_shape);
  if (o.need_weights) r.weights = narrow(packed, 0, out_n, scores).reshape(w_shape);
  return r;
}

}  // namespace tapegrad
