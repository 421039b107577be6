// Gradient clipping with torch.nn.utils' definitions: one norm over all gradients together.
#include "tapegrad/optim/clip.h"

#include <cmath>

#include "kernels/dispatch.h"
#include "tapegrad/core/autograd.h"
#include "tensor/check.h"

namespace tapegrad::optim {

namespace {
// sum |g|^p (or max |g| for the inf norm) over one gradient, accumulated in double.
double partial_norm(const Tensor& g, double p) {
  return dispatch_float(g.dtype(), "clip_grad_norm_", [&]<typename T>() {
    auto a = cvec<T>(*impl_ptr(g)).template cast<double>().abs();
    if (std::isinf(p)) return g.numel() ? a.maxCoeff() : 0.0;
    if (p == 2) return a.square().sum();
    if (p == 1) return a.sum();
    return a.pow(p).sum();
  });
}
}  // namespace

// total = (sum over all elements of |g|^p)^(1/p), or the largest |g| for p = inf;
// every g *= min(1, max_norm / (total + 1e-6)).
double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm, double norm_type,
                       bool error_if_nonfinite) {
  if (!(norm_type > 0))
    throw ValueError(
        msg("clip_grad_norm_: norm_type must be positive (or kInfNorm), got ", norm_type));
  if (!(max_norm >= 0))
    throw ValueError(msg("clip_grad_norm_: max_norm must be >= 0, got ", max_norm));
  std::vector<Tensor> grads;
  for (const Tensor& p : params)
    if (p.defined() && p.grad().defined()) grads.push_back(p.grad());
  if (grads.empty()) return 0;
  double acc = 0;
  for (const Tensor& g : grads) {
    const double part = partial_norm(g, norm_type);
    acc = std::isinf(norm_type) ? std::max(acc, part) : acc + part;
    if (std::isnan(part)) acc = part;
  }
  const double total = std::isinf(norm_type) ? acc : std::pow(acc, 1 / norm_type);
  if (error_if_nonfinite && !std::isfinite(total))
    throw ValueError(
        msg("clip_grad_norm_: the total norm of order ", norm_type, " is ", total,
            "; a gradient holds NaN or Inf (pass error_if_nonfinite=false to clip anyway)"));
  // NaN stays NaN (std::min would drop it), so a NaN norm poisons the gradients as in PyTorch.
  const double raw = max_norm / (total + 1e-6);
  const double coef = std::isnan(raw) ? raw : std::min(1.0, raw);
  NoGradGuard no_grad;
  for (const Tensor& g : grads) g.mul_(coef);
  return total;
}

void clip_grad_value_(const std::vector<Tensor>& params, double clip_value) {
  if (!(clip_value >= 0))
    throw ValueError(msg("clip_grad_value_: clip_value must be >= 0, got ", clip_value));
  for (const Tensor& p : params) {
    if (!p.defined() || !p.grad().defined()) continue;
    const Tensor g = p.grad();
    dispatch_float(g.dtype(), "clip_grad_value_", [&]<typename T>() {
      auto a = vec<T>(*impl_ptr(g));
      a = a.max(T(-clip_value)).min(T(clip_value));
    });
  }
}

}  // namespace tapegrad::optim
