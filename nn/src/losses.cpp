// MSE, L1, Huber, smooth L1, KL divergence and NLL, and the loss modules.
#include <cmath>
#include <utility>

#include "kernels/dispatch.h"
#include "pointwise_loss.h"
#include "reduction.h"
#include "tapegrad/nn/loss.h"
#include "tensor/check.h"

namespace tapegrad::nn {

namespace functional {

// l = (x - t)^2     gx = 2 (x - t)     gt = -gx
Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction r) {
  return dispatch_float(impl_of(input, "mse_loss").dtype, "mse_loss", [&]<typename T>() {
    return pointwise_loss<T>(
        "mse_loss", input, target, r, [](const auto& x, const auto& t) { return (x - t).square(); },
        [](const auto& x, const auto& t) { return T(2) * (x - t); },
        [](const auto& x, const auto& t) { return T(2) * (t - x); }, false,
        [](const Tensor& x, const Tensor& t) {
          return std::pair{(x - t) * 2.0, (t - x) * 2.0};
        });
  });
}

// l = |x - t|     gx = sign(x - t)     gt = -gx
Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction r) {
  return dispatch_float(impl_of(input, "l1_loss").dtype, "l1_loss", [&]<typename T>() {
    return pointwise_loss<T>(
        "l1_loss", input, target, r, [](const auto& x, const auto& t) { return (x - t).abs(); },
        [](const auto& x, const auto& t) { return (x - t).sign(); },
        [](const auto& x, const auto& t) { return (t - x).sign(); }, false,
        [](const Tensor& x, const Tensor& t) {
          return std::pair{sign(x - t), sign(t - x)};
        });
  });
}

// l = (x - t)^2 / 2 where |x - t| < delta, else delta (|x - t| - delta / 2)
// gx = clamp(x - t, -delta, delta)     gt = -gx
Tensor huber_loss(const Tensor& input, const Tensor& target, Reduction r, double delta) {
  if (!(delta > 0) || !std::isfinite(delta))
    throw ValueError(msg("huber_loss: delta must be positive and finite, got ", delta));
  return dispatch_float(impl_of(input, "huber_loss").dtype, "huber_loss", [&]<typename T>() {
    const T d = static_cast<T>(delta);
    return pointwise_loss<T>(
        "huber_loss", input, target, r,
        [d](const auto& x, const auto& t) {
          const auto e = (x - t).abs();
          return (e < d).select(T(0.5) * e.square(), d * (e - T(0.5) * d));
        },
        [d](const auto& x, const auto& t) { return (x - t).max(-d).min(d); },
        [d](const auto& x, const auto& t) { return (t - x).max(-d).min(d); }, false,
        [delta](const Tensor& x, const Tensor& t) {
          return std::pair{clamp(x - t, -delta, delta), clamp(t - x, -delta, delta)};
        });
  });
}

// l = (x - t)^2 / (2 beta) where |x - t| < beta, else |x - t| - beta / 2 (beta 0: |x - t|)
// gx = (x - t) / beta inside, sign(x - t) beyond     gt = -gx
Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, Reduction r, double beta) {
  if (!(beta >= 0) || !std::isfinite(beta))
    throw ValueError(msg("smooth_l1_loss: beta must be non-negative and finite, got ", beta));
  if (beta == 0) return l1_loss(input, target, r);
  return dispatch_float(
      impl_of(input, "smooth_l1_loss").dtype, "smooth_l1_loss", [&]<typename T>() {
        const T b = static_cast<T>(beta);
        return pointwise_loss<T>(
            "smooth_l1_loss", input, target, r,
            [b](const auto& x, const auto& t) {
              const auto e = (x - t).abs();
              return (e < b).select(T(0.5) * e.square() / b, e - T(0.5) * b);
            },
            [b](const auto& x, const auto& t) { return ((x - t) / b).max(T(-1)).min(T(1)); },
            [b](const auto& x, const auto& t) { return ((t - x) / b).max(T(-1)).min(T(1)); }, false,
            [beta](const Tensor& x, const Tensor& t) {
              return std::pair{clamp((x - t) / beta, -1.0, 1.0), clamp((t - x) / beta, -1.0, 1.0)};
            });
      });
}

// log_target false:  l = t log t - t x (0 log 0 = 0)   gx = -t   gt = log t + 1 - x (t != 0 for the
// log) log_target true:   l = e^t (t - x)                    gx = -e^t   gt = e^t (t - x + 1)
Tensor kl_div(const Tensor& input, const Tensor& target, Reduction r, bool log_target) {
  return dispatch_float(impl_of(input, "kl_div").dtype, "kl_div", [&]<typename T>() {
    if (log_target)
      return pointwise_loss<T>(
          "kl_div", input, target, r,
          [](const auto& x, const auto& t) { return t.exp() * (t - x); },
          [](const auto&, const auto& t) { return -t.exp(); },
          [](const auto& x, const auto& t) { return t.exp() * (t - x + T(1)); }, true,
          [](const Tensor& x, const Tensor& t) {
            return std::pair{-exp(t), exp(t) * (t - x + 1.0)};
          });
    return pointwise_loss<T>(
        "kl_div", input, target, r,
        [](const auto& x, const auto& t) { return (t == T(0)).select(T(0), t * t.log()) - t * x; },
        [](const auto&, const auto& t) { return -t; },
        // As torch's xlogy backward: 0/0 (NaN) at t = 0.
        [](const auto& x, const auto& t) { return (t == T(0)).select(T(0), t.log()) + t / t - x; },
        true,
        [](const Tensor& x, const Tensor& t) {
          // log t with t = 0 replaced first, so that no branch of the graph takes log 0.
          const Tensor zero = eq(t, zeros_like(t));
          return std::pair{-t, masked_fill(log(masked_fill(t, zero, 1.0)), zero, 0.0) + t / t - x};
        });
  });
}

// loss_i = -w_t log_probs[i, t_i] for the rows whose target is not ignore_index, 0 for the
// others; mean divides by the sum of their w_t. Positions of an (N, C, d1, ...) input become rows
// of C first. Built from gather and a product, so the gradient is theirs.
Tensor nll_loss(const Tensor& log_probs, const Tensor& target, const NLLLossOptions& o) {
  const TensorImpl& x = impl_of(log_probs, "nll_loss");
  const TensorImpl& t = impl_of(target, "nll_loss");
  check_reduction("nll_loss", o.reduction);
  const std::int64_t C = class_count("nll_loss", "log_probs", log_probs);
  const auto rank = static_cast<std::int64_t>(x.shape.size());
  Shape spatial = x.shape;  // the targets' and the unreduced loss's shape
  spatial.erase(spatial.begin() + (rank == 1 ? 0 : 1));
  if (t.dtype != kInt64 || t.shape != spatial)
    throw ShapeError(msg("nll_loss: target must be int64 ", shape_str(spatial), " for log_probs ",
                         shape_str(x.shape), ": got ", shape_str(t.shape), " ",
                         dtype_name(t.dtype)));
  check_class_weight("nll_loss", o.weight, x.dtype, C);
  Tensor rows = log_probs;
  if (rank == 1) rows = log_probs.reshape({1, C});
  if (rank > 2) rows = class_rows(log_probs);
  const bool ignored = check_class_indices("nll_loss", target, C, o.ignore_index);
  Tensor per;
  double total = 0;
  const bool plain = !ignored && !o.weight.defined();
  if (plain) {  // the training case: the targets index directly, and the mean is mean()
    per = -gather(rows, 1, target.reshape({-1, 1})).reshape({-1});
  } else {
    // Each row's class (0 where ignored, masked out by its coefficient) and its coefficient
    // w_t (0 if ignored).
    const std::int64_t* pt = t.data<std::int64_t>();
    const std::vector<double> w =
        o.weight.defined() ? o.weight.to_vector<double>() : std::vector<double>();
    std::vector<std::int64_t> picked(static_cast<std::size_t>(t.numel));
    std::vector<double> coeff(picked.size());
    for (std::size_t i = 0; i < picked.size(); ++i) {
      if (pt[i] == o.ignore_index) continue;
      picked[i] = pt[i];
      coeff[i] = w.empty() ? 1.0 : w[static_cast<std::size_t>(pt[i])];
      total += coeff[i];
    }
    per = -gather(rows, 1, from_vector(picked, {t.numel, 1})).reshape({-1}) *
          from_vector(coeff, {t.numel}, {.dtype = x.dtype});
  }
  switch (o.reduction) {
    case Reduction::Sum: return sum(per);
    case Reduction::None: return per.reshape(spatial);
    default: return plain ? mean(per) : sum(per) / total;
  }
}

Tensor nll_loss(const Tensor& log_probs, const Tensor& target, Reduction r) {
  NLLLossOptions o;
  o.reduction = r;
  return nll_loss(log_probs, target, o);
}

}  // namespace functional

Tensor MSELoss::forward(const Tensor& i, const Tensor& t) const {
  return functional::mse_loss(i, t, reduction_);
}
Tensor L1Loss::forward(const Tensor& i, const Tensor& t) const {
  return functional::l1_loss(i, t, reduction_);
}
Tensor CrossEntropyLoss::forward(const Tensor& i, const Tensor& t) const {
  functional::CrossEntropyOptions o = options_;
  o.reduction = reduction_;
  return functional::cross_entropy(i, t, o);
}
Tensor NLLLoss::forward(const Tensor& i, const Tensor& t) const {
  functional::NLLLossOptions o = options_;
  o.reduction = reduction_;
  return functional::nll_loss(i, t, o);
}
Tensor BCELoss::forward(const Tensor& i, const Tensor& t) const {
  return functional::binary_cross_entropy(i, t, reduction_, weight_);
}
Tensor BCEWithLogitsLoss::forward(const Tensor& i, const Tensor& t) const {
  return functional::binary_cross_entropy_with_logits(i, t, reduction_, weight_, pos_weight_);
}
// The constructors check their option through the function, on empty tensors: one place holds
// each rule and its message.
HuberLoss::HuberLoss(Reduction r, double delta) : Loss(r), delta_(delta) {
  functional::huber_loss(zeros({0}), zeros({0}), Reduction::Sum, delta);
}
Tensor HuberLoss::forward(const Tensor& i, const Tensor& t) const {
  return functional::huber_loss(i, t, reduction_, delta_);
}
SmoothL1Loss::SmoothL1Loss(Reduction r, double beta) : Loss(r), beta_(beta) {
  functional::smooth_l1_loss(zeros({0}), zeros({0}), Reduction::Sum, beta);
}
Tensor SmoothL1Loss::forward(const Tensor& i, const Tensor& t) const {
  return functional::smooth_l1_loss(i, t, reduction_, beta_);
}
Tensor KLDivLoss::forward(const Tensor& i, const Tensor& t) const {
  return functional::kl_div(i, t, reduction_, log_target_);
}

}  // namespace tapegrad::nn
