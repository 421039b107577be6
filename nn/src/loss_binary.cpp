// Binary cross-entropy on probabilities and on logits, with PyTorch's numerics (log clamped at
// -100; the logits form never exponentiates a positive number), and their per-element weight and
// (logits) positive-class weight, as torch's.
// Legend: p probabilities or x logits, t targets, same shape; w weight, q pos_weight, both
// broadcast to x's shape.
#include "pointwise_loss.h"

namespace tapegrad::nn::functional {

namespace {

// A weight-like option broadcast to x's shape, detached (no gradient flows to it); undefined
// stays undefined. Throws naming op and the option unless it broadcasts to exactly that shape.
Tensor at_input_shape(const char* op, const char* name, const Tensor& w, const Tensor& x) {
  if (!w.defined()) return w;
  if (w.dtype() != x.dtype())
    throw ValueError(msg(op, ": ", name, " is ", dtype_name(w.dtype()), " but the input is ",
                         dtype_name(x.dtype())));
  const Shape& s = x.shape();
  bool fits = w.dim() <= x.dim();
  for (std::int64_t d = 1; fits && d <= w.dim(); ++d) {
    const std::int64_t ws = w.size(-d), xs = s[s.size() - d];
    fits = ws == xs || ws == 1;
  }
  if (!fits)
    throw ShapeError(msg(op, ": ", name, " of shape ", shape_str(w.shape()),
                         " does not broadcast to the input's shape ", shape_str(s)));
  return expand(w.detach(), s);
}

// The per-element losses times w (when given), reduced by r: the chain rule through the product
// gives gx = g w dl/dx.
Tensor weighted(const Tensor& per_element, const Tensor& w, Reduction r) {
  return reduce(w.defined() ? per_element * w : per_element, r);
}

// l = (1 - t) x + m (log(1 + e^-|x|) + max(-x, 0)), m = (q - 1) t + 1 (torch's log_weight)
// gx = (1 - t) - m sigmoid(-x)      gt = -x + (q - 1) (log(1 + e^-|x|) + max(-x, 0))
// Unreduced; q already at x's shape.
Tensor logits_bce_pos_weight(const Tensor& logits, const Tensor& target, const Tensor& q) {
  const TensorImpl &x = impl_of(logits, "binary_cross_entropy_with_logits"),
                   &t = impl_of(target, "binary_cross_entropy_with_logits");
  check_pair("binary_cross_entropy_with_logits", x, t);
  return dispatch_float(x.dtype, "binary_cross_entropy_with_logits", [&]<typename T>() {
    ImplPtr y = make_impl(x.shape, x.dtype);
    auto xv = cvec<T>(x), tv = cvec<T>(t), qv = cvec<T>(*impl_ptr(q));
    vec<T>(*y) = (T(1) - tv) * xv +
                 ((qv - T(1)) * tv + T(1)) * ((-xv.abs()).exp().log1p() + (-xv).max(T(0)));
    return record(
        "binary_cross_entropy_with_logits", std::move(y), {logits, target, q},
        WithGraph{[](BackwardCtx& c) {
                    auto xv = cvec<T>(c.in(0)), tv = cvec<T>(c.in(1)), qv = cvec<T>(c.in(2));
                    auto g = cvec<T>(c.grad_out());
                    if (TensorImpl* gx = c.grad_in(0))
                      vec<T>(*gx) += g * ((T(1) - tv) -
                                          ((qv - T(1)) * tv + T(1)) * (T(1) + xv.exp()).inverse());
                    if (TensorImpl* gt = c.grad_in(1))
                      vec<T>(*gt) +=
                          g * ((qv - T(1)) * ((-xv.abs()).exp().log1p() + (-xv).max(T(0))) - xv);
                  },
                  [](GraphCtx& c) {  // q is detached: only x and t take gradients
                    const Tensor x = c.in(0), t = c.in(1), q = c.in(2), g = c.grad_out();
                    if (c.needs(0)) c.add(0, g * ((1.0 - t) - ((q - 1.0) * t + 1.0) * sigmoid(-x)));
                    if (c.needs(1))
                      c.add(1, g * ((q - 1.0) * (log(exp(-abs(x)) + 1.0) + relu(-x)) - x));
                  }});
  });
}

}  // namespace

// l = -(t max(log p, -100) + (1 - t) max(log(1 - p), -100))
// gp = (p - t) / max(p (1 - p), eps)   (PyTorch's backward; eps is the float constant 1e-12
//                                       converted to T, 9.999999960041972e-13 in float64)
Tensor binary_cross_entropy(const Tensor& probs, const Tensor& target, Reduction r,
                            const Tensor& weight) {
  const TensorImpl& p = impl_of(probs, "binary_cross_entropy");
  if (weight.defined()) {
    check_reduction("binary_cross_entropy", r);
    const Tensor w = at_input_shape("binary_cross_entropy", "weight", weight, probs);
    return weighted(binary_cross_entropy(probs, target, Reduction::None), w, r);
  }
  if (target.requires_grad())
    throw ValueError(
        "binary_cross_entropy: the gradient with respect to target is not supported; "
        "use binary_cross_entropy_with_logits or detach() the target");
  return dispatch_float(p.dtype, "binary_cross_entropy", [&]<typename T>() {
    auto pv = cvec<T>(p);
    if (!((pv >= T(0)) && (pv <= T(1))).all())
      throw ValueError("binary_cross_entropy: every input must be a probability in [0, 1]");
    return pointwise_loss<T>(
        "binary_cross_entropy", probs, target, r,
        [](const auto& p, const auto& t) {
          return -(t * p.log().max(T(-100)) + (T(1) - t) * (T(1) - p).log().max(T(-100)));
        },
        [](const auto& p, const auto& t) { return (p - t) / (p * (T(1) - p)).max(T(1e-12f)); },
        NoTargetGrad{}, false,
        [](const Tensor& p, const Tensor& t) {
          // The target takes no gradient (refused above): its slot stays empty.
          return std::pair{(p - t) / clamp_min(p * (1.0 - p), static_cast<double>(T(1e-12f))),
                           Tensor()};
        });
  });
}

// l = max(x, 0) - x t + log(1 + e^-|x|)
// gx = sigmoid(x) - t      gt = -x
Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target, Reduction r,
                                        const Tensor& weight, const Tensor& pos_weight) {
  const TensorImpl& x = impl_of(logits, "binary_cross_entropy_with_logits");
  if (weight.defined() || pos_weight.defined()) {
    const char* op = "binary_cross_entropy_with_logits";
    check_reduction(op, r);
    const Tensor w = at_input_shape(op, "weight", weight, logits);
    const Tensor q = at_input_shape(op, "pos_weight", pos_weight, logits);
    return weighted(q.defined() ? logits_bce_pos_weight(logits, target, q)
                                : binary_cross_entropy_with_logits(logits, target, Reduction::None),
                    w, r);
  }
  return dispatch_float(x.dtype, "binary_cross_entropy_with_logits", [&]<typename T>() {
    return pointwise_loss<T>(
        "binary_cross_entropy_with_logits", logits, target, r,
        [](const auto& x, const auto& t) { return x.max(T(0)) - x * t + (-x.abs()).exp().log1p(); },
        [](const auto& x, const auto& t) { return (T(1) + (-x).exp()).inverse() - t; },
        [](const auto& x, const auto&) { return -x; }, false,
        [](const Tensor& x, const Tensor& t) {
          return std::pair{sigmoid(x) - t, -x};
        });
  });
}

}  // namespace tapegrad::nn::functional
