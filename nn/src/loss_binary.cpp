// Binary cross-entropy on probabilities and on logits, fused elementwise with PyTorch's
// numerics (log clamped at -100; the logits form never exponentiates a positive number).
// Legend: p probabilities or x logits, t targets, same shape; g the gradient of each element.
#include "check.h"
#include "kernels.h"
#include "reduction.h"

namespace tapegrad::nn::functional {

namespace {
void check_pair(const char* op, const TensorImpl& a, const TensorImpl& t) {
  check_floating(op, a);
  if (a.shape != t.shape || a.dtype != t.dtype)
    throw ShapeError(msg(op, ": target must match the input: input is ", shape_str(a.shape), " ",
                         dtype_name(a.dtype), ", target is ", shape_str(t.shape), " ",
                         dtype_name(t.dtype)));
}
}  // namespace

// l = -(t max(log p, -100) + (1 - t) max(log(1 - p), -100))
// gp = g (p - t) / max(p (1 - p), 1e-12)      (PyTorch's backward, eps included)
Tensor binary_cross_entropy(const Tensor& probs, const Tensor& target, Reduction r) {
  const TensorImpl &p = impl_of(probs, "binary_cross_entropy"), &t = impl_of(target, "binary_cross_entropy");
  check_pair("binary_cross_entropy", p, t);
  if (target.requires_grad())
    throw ValueError("binary_cross_entropy: the gradient with respect to target is not supported; "
                     "use binary_cross_entropy_with_logits or detach() the target");
  Tensor per = dispatch_float(p.dtype, "binary_cross_entropy", [&]<typename T>() {
    auto pv = cvec<T>(p), tv = cvec<T>(t);
    if (!((pv >= T(0)) && (pv <= T(1))).all())
      throw ValueError("binary_cross_entropy: every input must be a probability in [0, 1]");
    ImplPtr y = make_impl(p.shape, p.dtype);
    vec<T>(*y) = -(tv * pv.log().max(T(-100)) + (T(1) - tv) * (T(1) - pv).log().max(T(-100)));
    return record("binary_cross_entropy", y, {probs, target}, [](BackwardCtx& c) {
      if (TensorImpl* gp = c.grad_in(0)) {
        auto pv = cvec<T>(c.in(0)), tv = cvec<T>(c.in(1));
        vec<T>(*gp) += cvec<T>(c.grad_out()) * (pv - tv) / (pv * (T(1) - pv)).max(T(1e-12));
      }
    });
  });
  return reduce(per, r);
}

// l = max(x, 0) - x t + log(1 + e^-|x|)
// gx = g (sigmoid(x) - t)      gt = -g x
Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target, Reduction r) {
  const TensorImpl &x = impl_of(logits, "binary_cross_entropy_with_logits"),
                   &t = impl_of(target, "binary_cross_entropy_with_logits");
  check_pair("binary_cross_entropy_with_logits", x, t);
  Tensor per = dispatch_float(x.dtype, "binary_cross_entropy_with_logits", [&]<typename T>() {
    auto xv = cvec<T>(x), tv = cvec<T>(t);
    ImplPtr y = make_impl(x.shape, x.dtype);
    vec<T>(*y) = xv.max(T(0)) - xv * tv + (-xv.abs()).exp().log1p();
    return record("binary_cross_entropy_with_logits", y, {logits, target}, [](BackwardCtx& c) {
      auto xv = cvec<T>(c.in(0));
      auto g = cvec<T>(c.grad_out());
      if (TensorImpl* gx = c.grad_in(0))
        vec<T>(*gx) += g * ((T(1) + (-xv).exp()).inverse() - cvec<T>(c.in(1)));
      if (TensorImpl* gt = c.grad_in(1)) vec<T>(*gt) -= g * xv;
    });
  });
  return reduce(per, r);
}

}  // namespace tapegrad::nn::functional
