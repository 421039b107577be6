// Cross-entropy from logits, fused: one pass computes each row's log-sum-exp, and backward is
// softmax - target directly instead of a chain of generic ops.
// Legend: x logits (B, C); t class indices (B) or probabilities (B, C); lse_i = log sum_j e^x_ij.
#include "check.h"
#include "kernels.h"
#include "reduction.h"

namespace tapegrad::nn::functional {

namespace {
void check_targets(const TensorImpl& x, const TensorImpl& t) {
  const std::int64_t B = x.shape[0], C = x.shape[1];
  if (t.dtype == kInt64) {
    if (t.shape != Shape{B})
      throw ShapeError(msg("cross_entropy: class-index targets must be (", B, ") for logits ",
                           shape_str(x.shape), ": got ", shape_str(t.shape)));
    const std::int64_t* p = t.data<std::int64_t>();
    for (std::int64_t i = 0; i < B; ++i)
      if (p[i] < 0 || p[i] >= C)
        throw ValueError(msg("cross_entropy: target ", p[i], " at position ", i,
                             " is out of range for ", C, " classes"));
  } else if (t.shape != x.shape || t.dtype != x.dtype) {
    throw ShapeError(msg("cross_entropy: probability targets must match the logits ",
                         shape_str(x.shape), " ", dtype_name(x.dtype), ": got ", shape_str(t.shape),
                         " ", dtype_name(t.dtype), "; class-index targets must be int64 of shape (",
                         B, ")"));
  }
}
}  // namespace

// loss_i = lse_i - x_i,t_i                    (indices)
// loss_i = sum_j t_ij (lse_i - x_ij)           (probabilities)
// gx_ij = s_i (p_ij - [j == t_i])  or  s_i (p_ij sum_k t_ik - t_ij),  p = softmax(x)
// gt_ij = s_i (lse_i - x_ij)
// with s_i the gradient reaching sample i: g / B for mean, g for sum, g_i for none.
Tensor cross_entropy(const Tensor& logits, const Tensor& target, Reduction r) {
  const TensorImpl& x = impl_of(logits, "cross_entropy");
  const TensorImpl& t = impl_of(target, "cross_entropy");
  check_floating("cross_entropy", x);
  check_reduction("cross_entropy", r);
  if (x.shape.size() != 2)
    throw ShapeError(
        msg("cross_entropy: logits must be (batch, classes): got ", shape_str(x.shape)));
  check_targets(x, t);
  const std::int64_t B = x.shape[0], C = x.shape[1];
  const bool by_index = t.dtype == kInt64;
  return dispatch_float(x.dtype, "cross_entropy", [&]<typename T>() {
    ImplPtr lse = make_impl({B}, x.dtype);
    ImplPtr loss = make_impl({B}, x.dtype);
    auto xm = cmat<T>(x, B, C);
    parallel_chunks(
        B,
        [&](std::int64_t b, std::int64_t e) {
          for (std::int64_t i = b; i < e; ++i) {
            const T m = xm.row(i).maxCoeff();  // subtracting the max keeps exp() finite
            const T l = m + std::log((xm.row(i).array() - m).exp().sum());
            lse->data<T>()[i] = l;
            loss->data<T>()[i] =
                by_index ? l - xm(i, t.data<std::int64_t>()[i])
                         : (cmat<T>(t, B, C).row(i).array() * (l - xm.row(i).array())).sum();
          }
        },
        C);
    Tensor out;
    if (r == Reduction::None) {
      out = Tensor(loss);
    } else {
      ImplPtr y = make_impl({}, x.dtype);
      *y->data<T>() = cvec<T>(*loss).sum() / (r == Reduction::Mean ? T(B) : T(1));
      out = Tensor(y);
    }
    return record(
        "cross_entropy", impl_ptr(out), {logits, target}, [lse, B, C, r, by_index](BackwardCtx& c) {
          const T* g = c.grad_out().data<T>();
          auto scale = [&](std::int64_t i) {
            return r == Reduction::None ? g[i] : r == Reduction::Mean ? g[0] / T(B) : g[0];
          };
          auto xm = cmat<T>(c.in(0), B, C);
          const T* l = lse->data<T>();
          if (TensorImpl* gx = c.grad_in(0)) {
            auto gm = mat<T>(*gx, B, C);
            for (std::int64_t i = 0; i < B; ++i) {
              const T s = scale(i);
              if (by_index) {
                gm.row(i).array() += s * (xm.row(i).array() - l[i]).exp();
                gm(i, c.in(1).data<std::int64_t>()[i]) -= s;
              } else {
                auto ti = cmat<T>(c.in(1), B, C).row(i).array();
                gm.row(i).array() += s * ((xm.row(i).array() - l[i]).exp() * ti.sum() - ti);
              }
            }
          }
          if (!by_index)
            if (TensorImpl* gt = c.grad_in(1)) {
              auto gm = mat<T>(*gt, B, C);
              for (std::int64_t i = 0; i < B; ++i)
                gm.row(i).array() += scale(i) * (l[i] - xm.row(i).array());
            }
        });
  });
}

}  // namespace tapegrad::nn::functional
