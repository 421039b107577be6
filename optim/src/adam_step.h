// The Adam step shared by Adam and AdamW (which differ only in where weight decay goes).
#pragma once
#include <cmath>

#include "update.h"

namespace tapegrad::optim {

struct AdamStep {
  double lr, beta1, beta2, eps, weight_decay;  // weight_decay: the L2 term added to the gradient
  bool amsgrad, maximize;
};

/// m = b1 m + (1 - b1) d;  v = b2 v + (1 - b2) d^2;  vmax = max(vmax, v) for AMSGrad;
/// p -= lr / (1 - b1^t) m / (sqrt(v or vmax) / sqrt(1 - b2^t) + eps)  (eps outside the root,
/// after the bias correction, as in PyTorch).
inline void adam_step(const char* name, const AdamStep& a, std::int64_t t, const Tensor& p,
                      const Tensor& grad, const Tensor& m, const Tensor& v, const Tensor* vmax) {
  const double bc1 = 1 - std::pow(a.beta1, static_cast<double>(t));
  const double bc2_sqrt = std::sqrt(1 - std::pow(a.beta2, static_cast<double>(t)));
  const double step_size = a.lr / bc1;
  update_elements(name, p, [&]<typename T>(std::int64_t b, std::int64_t n) {
    auto P = arr<T>(p).segment(b, n);
    auto G = arr<T>(grad).segment(b, n);
    auto M = arr<T>(m).segment(b, n);
    auto V = arr<T>(v).segment(b, n);
    const T sign = a.maximize ? T(-1) : T(1), wd = T(a.weight_decay);
    const T b1 = T(a.beta1), b2 = T(a.beta2);
    auto d = [&] { return sign * G + wd * P; };
    M = b1 * M + (T(1) - b1) * d();
    V = b2 * V + (T(1) - b2) * d().square();
    if (vmax) {
      auto X = arr<T>(*vmax).segment(b, n);
      X = X.max(V);
      P -= T(step_size) * M / (X.sqrt() / T(bc2_sqrt) + T(a.eps));
    } else {
      P -= T(step_size) * M / (V.sqrt() / T(bc2_sqrt) + T(a.eps));
    }
  });
}

}  // namespace tapegrad::optim
