// Adam and AdamW: PyTorch 1.13's _single_tensor_adam / _single_tensor_adamw, one step for both.
#include "tapegrad/optim/adam.h"

#include <cmath>

#include "tapegrad/optim/adamw.h"
#include "update.h"
#include "validate.h"

namespace tapegrad::optim {

namespace {
// m = b1 m + (1 - b1) d;  v = b2 v + (1 - b2) d^2;  vmax = max(vmax, v) for AMSGrad;
// p -= lr / (1 - b1^t) m / (sqrt(v or vmax) / sqrt(1 - b2^t) + eps)  (eps outside the root,
// after the bias correction, as in PyTorch). d is gradient_term(o): o.weight_decay is the L2
// term, 0 for AdamW.
template <typename Options>
void adam_step(const char* name, const Options& o, std::int64_t t, const Tensor& p,
               const Tensor& grad, const Tensor& m, const Tensor& v, const Tensor* vmax) {
  const double bc1 = 1 - std::pow(o.betas.first, static_cast<double>(t));
  const double bc2_sqrt = std::sqrt(1 - std::pow(o.betas.second, static_cast<double>(t)));
  const double step_size = o.lr / bc1;
  update_elements(name, p, [&]<typename T>(std::int64_t b, std::int64_t n) {
    auto P = arr<T>(p).segment(b, n);
    auto M = arr<T>(m).segment(b, n);
    auto V = arr<T>(v).segment(b, n);
    auto d = gradient_term<T>(o, arr<T>(grad).segment(b, n), P);
    const T b1 = T(o.betas.first), b2 = T(o.betas.second);
    M = b1 * M + (T(1) - b1) * d();
    V = b2 * V + (T(1) - b2) * d().square();
    if (vmax) {
      auto X = arr<T>(*vmax).segment(b, n);
      X = X.max(V);
      P -= T(step_size) * M / (X.sqrt() / T(bc2_sqrt) + T(o.eps));
    } else {
      P -= T(step_size) * M / (V.sqrt() / T(bc2_sqrt) + T(o.eps));
    }
  });
}
}  // namespace

void Adam::validate(const AdamOptions& o) { validate_adam_family("Adam", o); }

void Adam::update(std::size_t group, ParamState& s, const Tensor& p, const Tensor& grad) {
  const AdamOptions& o = options(group);
  adam_step("Adam", o, s.step, p, grad, buffer(s, 0, p), buffer(s, 1, p),
            o.amsgrad ? &buffer(s, 2, p) : nullptr);
}

void AdamW::validate(const AdamWOptions& o) { validate_adam_family("AdamW", o); }

// Decoupled decay: p shrinks by lr * wd before the Adam step sees it; the gradient is untouched.
void AdamW::update(std::size_t group, ParamState& s, const Tensor& p, const Tensor& grad) {
  AdamWOptions o = options(group);
  p.mul_(1 - o.lr * o.weight_decay);
  o.weight_decay = 0;
  adam_step("AdamW", o, s.step, p, grad, buffer(s, 0, p), buffer(s, 1, p),
            o.amsgrad ? &buffer(s, 2, p) : nullptr);
}

}  // namespace tapegrad::optim
