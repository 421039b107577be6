// Cross-entropy from logits, fused: one pass computes each row's log-sum-exp, and backward is
// the closed form (softmax against the target) instead of a chain of generic ops. Class weights,
// ignore_index and label smoothing are folded into the same pass, as torch 1.13 defines them.
// Inputs of more dims, (N, C, d1, ...), are moved to rows of C first.
// Legend: x logits (M, C), p = softmax(x), lse_i = log sum_j e^x_ij; t class indices (M) or
// probabilities (M, C); w class weights (1 without), W = sum_j w_j; e the label smoothing.
#include "autograd/tape.h"
#include "kernels/dispatch.h"
#include "reduction.h"
#include "runtime/parallel_chunks.h"
#include "tensor/check.h"

namespace tapegrad::nn::functional {

namespace {

void check_options(const TensorImpl& x, std::int64_t C, const CrossEntropyOptions& o) {
  check_reduction("cross_entropy", o.reduction);
  if (!(o.label_smoothing >= 0 && o.label_smoothing <= 1))
    throw ValueError(
        msg("cross_entropy: label_smoothing must be in [0, 1], got ", o.label_smoothing));
  check_class_weight("cross_entropy", o.weight, x.dtype, C);
}

// Index targets (M) in [0, C) or equal to ignore_index; probability targets as the logits.
void check_targets(const TensorImpl& x, const Tensor& target, std::int64_t ignore_index) {
  const TensorImpl& t = impl_of(target, "cross_entropy");
  const std::int64_t M = x.shape[0], C = x.shape[1];
  if (t.dtype == kInt64) {
    if (t.shape != Shape{M})
      throw ShapeError(msg("cross_entropy: class-index targets must be (", M, ") for logits ",
                           shape_str(x.shape), ": got ", shape_str(t.shape)));
    check_class_indices("cross_entropy", target, C, ignore_index);
  } else if (t.shape != x.shape || t.dtype != x.dtype) {
    throw ShapeError(msg("cross_entropy: probability targets must match the logits ",
                         shape_str(x.shape), " ", dtype_name(x.dtype), ": got ", shape_str(t.shape),
                         " ", dtype_name(t.dtype), "; class-index targets must be int64 of shape (",
                         M, ")"));
  }
}

// index targets:  loss_i = (1 - e) w_t (lse_i - x_it) + e/C sum_j w_j (lse_i - x_ij), 0 if
//                 t_i = ignore_index; mean divides by D = sum of w_t over the rows not ignored.
//                 gx_ij = s_i ((1 - e) w_t (p_ij - [j = t]) + e/C (p_ij W - w_j))
// probabilities:  t' = (1 - e) t + e / C;  loss_i = sum_j w_j t'_ij (lse_i - x_ij); mean
//                 divides by M.   gx_ij = s_i (p_ij sum_k w_k t'_ik - w_j t'_ij)
//                 gt_ij = s_i (1 - e) w_j (lse_i - x_ij)
// s_i is the gradient reaching row i: g / D (or g / M) for mean, g for sum, g_i for none.
Tensor cross_entropy_rows(const Tensor& logits, const Tensor& target,
                          const CrossEntropyOptions& o) {
  const TensorImpl& x = impl_of(logits, "cross_entropy");
  const TensorImpl& t = impl_of(target, "cross_entropy");
  const std::int64_t M = x.shape[0], C = x.shape[1];
  check_targets(x, target, o.ignore_index);
  const bool by_index = t.dtype == kInt64;
  const Reduction r = o.reduction;
  const Tensor weight = o.weight;
  const std::int64_t ignore = o.ignore_index;
  return dispatch_float(x.dtype, "cross_entropy", [&]<typename T>() {
    const T e = static_cast<T>(o.label_smoothing), keep = T(1) - e, spread = e / T(C);
    const T* w = weight.defined() ? weight.data<T>() : nullptr;
    const T W = w ? Eigen::Map<const ArrayX<T>>(w, C).sum() : T(C);
    auto wj = [&](std::int64_t j) { return w ? w[j] : T(1); };
    ImplPtr lse = make_impl({M}, x.dtype);
    ImplPtr loss = make_impl({M}, x.dtype);
    auto xm = cmat<T>(x, M, C);
    parallel_chunks(
        M,
        [&](std::int64_t b, std::int64_t end) {
          for (std::int64_t i = b; i < end; ++i) {
            const T m = xm.row(i).maxCoeff();  // subtracting the max keeps exp() finite
            const T l = m + std::log((xm.row(i).array() - m).exp().sum());
            lse->data<T>()[i] = l;
            const auto nll = l - xm.row(i).array();  // -log p_ij
            T li = 0;
            if (by_index) {
              const std::int64_t ti = t.data<std::int64_t>()[i];
              if (ti != ignore) {
                li = keep * wj(ti) * nll(ti);
                if (e != T(0))
                  li += spread * (w ? (Eigen::Map<const ArrayX<T>>(w, C).transpose() * nll).sum()
                                    : nll.sum());
              }
            } else {
              const auto tr = cmat<T>(t, M, C).row(i).array() * keep + spread;
              li = w ? (tr * Eigen::Map<const ArrayX<T>>(w, C).transpose() * nll).sum()
                     : (tr * nll).sum();
            }
            loss->data<T>()[i] = li;
          }
        },
        C);
    // The mean's divisor: the weight of the rows not ignored (index targets), or M.
    T D = T(M);
    if (by_index) {
      D = 0;
      for (std::int64_t i = 0; i < M; ++i)
        if (const std::int64_t ti = t.data<std::int64_t>()[i]; ti != ignore) D += wj(ti);
    }
    Tensor out;
    if (r == Reduction::None) {
      out = Tensor(loss);
    } else {
      ImplPtr y = make_impl({}, x.dtype);
      *y->data<T>() = cvec<T>(*loss).sum() / (r == Reduction::Mean ? D : T(1));
      out = Tensor(y);
    }
    // The weights ride in the closure, not as an input: no gradient flows to them.
    const ImplPtr wimpl = weight.defined() ? impl_ptr(weight) : nullptr;
    // create_graph: the same closed forms in recorded ops, p and log p from softmax and
    // log_softmax (recorded too, so the logits' second derivatives come through them); the
    // parts fixed by the targets and weights are constants.
    auto graph = [M, C, r, D, by_index, ignore, keep, spread, W, wimpl](GraphCtx& c) {
      const Tensor x = c.in(0), g = c.grad_out();
      const Tensor s =
          r == Reduction::None
              ? reshape(g, {M, 1})
              : broadcast_to(reshape(r == Reduction::Mean ? g / static_cast<double>(D) : g, {1, 1}),
                             {M, 1});
      auto wv = [&](std::int64_t j) { return wimpl ? double(wimpl->data<T>()[j]) : 1.0; };
      if (by_index) {
        if (!c.needs(0)) return;
        // gx_ij = s_i (p_ij a_i - b_ij): a_i = keep w_t + spread W, b_ij = keep w_t [j = t] +
        // spread w_j (both 0 on an ignored row).
        std::vector<double> a(static_cast<std::size_t>(M), 0.0),
            b(static_cast<std::size_t>(M * C), 0.0);
        const std::int64_t* t = c.node.inputs[1].t->data<std::int64_t>();
        for (std::int64_t i = 0; i < M; ++i) {
          if (t[i] == ignore) continue;
          a[static_cast<std::size_t>(i)] = double(keep) * wv(t[i]) + double(spread) * double(W);
          for (std::int64_t j = 0; j < C; ++j)
            b[static_cast<std::size_t>(i * C + j)] = double(spread) * wv(j);
          b[static_cast<std::size_t>(i * C + t[i])] += double(keep) * wv(t[i]);
        }
        const Tensor av = from_vector(a, {M, 1}, {.dtype = x.dtype()}),
                     bv = from_vector(b, {M, C}, {.dtype = x.dtype()});
        c.add(0, s * (softmax(x, 1) * av - bv));
        return;
      }
      // gx_ij = s_i (p_ij sum_k w_k t'_ik - w_j t'_ij); gt_ij = -s_i keep w_j log p_ij.
      const Tensor w = wimpl ? reshape(Tensor(wimpl), {1, C}) : Tensor();
      Tensor wt = c.in(1) * double(keep) + double(spread);
      if (w.defined()) wt = wt * w;
      if (c.needs(0)) c.add(0, s * (softmax(x, 1) * sum(wt, 1, true) - wt));
      if (c.needs(1)) {
        Tensor d = log_softmax(x, 1) * -double(keep);
        if (w.defined()) d = d * w;
        c.add(1, s * d);
      }
    };
    return record(
        "cross_entropy", impl_ptr(out), {logits, target},
        WithGraph{[lse, M, C, r, D, by_index, ignore, keep, spread, W, wimpl](BackwardCtx& c) {
                    const T* g = c.grad_out().data<T>();
                    auto scale = [&](std::int64_t i) {
                      return r == Reduction::None ? g[i] : r == Reduction::Mean ? g[0] / D : g[0];
                    };
                    auto xm = cmat<T>(c.in(0), M, C);
                    const T* l = lse->data<T>();
                    TensorImpl* gx = c.grad_in(0);
                    TensorImpl* gt = by_index ? nullptr : c.grad_in(1);
                    // wv: the weights as a row, or a row of ones (an expression: no copy).
                    auto run = [&](const auto& wv) {
                      if (gx) {
                        auto gm = mat<T>(*gx, M, C);
                        for (std::int64_t i = 0; i < M; ++i) {
                          const T s = scale(i);
                          const auto p = (xm.row(i).array() - l[i]).exp();
                          if (by_index) {
                            const std::int64_t ti = c.in(1).data<std::int64_t>()[i];
                            if (ti == ignore) continue;
                            const T a = s * keep * wv(ti);
                            if (spread == T(0))  // no smoothing: the common case, one pass
                              gm.row(i).array() += a * p;
                            else
                              gm.row(i).array() += a * p + s * spread * (p * W - wv);
                            gm(i, ti) -= a;
                          } else {
                            const auto tr = cmat<T>(c.in(1), M, C).row(i).array() * keep + spread;
                            gm.row(i).array() += s * (p * (wv * tr).sum() - wv * tr);
                          }
                        }
                      }
                      if (gt) {
                        auto gm = mat<T>(*gt, M, C);
                        for (std::int64_t i = 0; i < M; ++i)
                          gm.row(i).array() += scale(i) * keep * wv * (l[i] - xm.row(i).array());
                      }
                    };
                    using Row = Eigen::Array<T, 1, Eigen::Dynamic>;
                    if (wimpl)
                      run(Eigen::Map<const Row>(wimpl->data<T>(), C));
                    else
                      run(Row::Ones(C));
                  },
                  std::move(graph)});
  });
}

}  // namespace

Tensor cross_entropy(const Tensor& logits, const Tensor& target, const CrossEntropyOptions& o) {
  const TensorImpl& x = impl_of(logits, "cross_entropy");
  impl_of(target, "cross_entropy");
  const std::int64_t C = class_count("cross_entropy", "logits", logits);
  const auto rank = static_cast<std::int64_t>(x.shape.size());
  check_options(x, C, o);
  if (rank == 2) return cross_entropy_rows(logits, target, o);
  const bool by_index = target.dtype() == kInt64;
  if (rank == 1) {  // one sample: (C) with a 0-d index or (C) probabilities
    if (by_index ? target.dim() != 0 : target.shape() != x.shape)
      throw ShapeError(msg("cross_entropy: the target for logits ", shape_str(x.shape), " must be ",
                           by_index ? "a 0-d int64 class index" : "probabilities of that shape",
                           ": got ", shape_str(target.shape())));
    const Tensor y = cross_entropy_rows(logits.reshape({1, C}),
                                        target.reshape(by_index ? Shape{1} : Shape{1, C}), o);
    return o.reduction == Reduction::None ? y.reshape({}) : y;
  }
  // (N, C, d1, ...): every position becomes a row of C.
  Shape spatial = x.shape;  // (N, d1, ...): the targets' and the unreduced loss's shape
  spatial.erase(spatial.begin() + 1);
  if (by_index ? target.shape() != spatial : target.shape() != x.shape)
    throw ShapeError(msg("cross_entropy: targets for logits ", shape_str(x.shape), " must be ",
                         by_index ? "int64 " : "", shape_str(by_index ? spatial : x.shape),
                         ": got ", shape_str(target.shape())));
  const Tensor rows = class_rows(logits);
  const Tensor targets = by_index ? target.reshape({-1}) : class_rows(target);
  const Tensor y = cross_entropy_rows(rows, targets, o);
  return o.reduction == Reduction::None ? y.reshape(spatial) : y;
}

Tensor cross_entropy(const Tensor& logits, const Tensor& target, Reduction r) {
  CrossEntropyOptions o;
  o.reduction = r;
  return cross_entropy(logits, target, o);
}

}  // namespace tapegrad::nn::functional
