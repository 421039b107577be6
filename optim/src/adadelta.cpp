// Adadelta: PyTorch 1.13's _single_tensor_adadelta.
#include "tapegrad/optim/adadelta.h"

#include <cmath>

#include "update.h"

namespace tapegrad::optim {

void Adadelta::validate(const AdadeltaOptions& o) {
  require(o.lr >= 0, "Adadelta", "lr", o.lr, ">= 0");
  require(o.rho >= 0 && o.rho <= 1, "Adadelta", "rho", o.rho, "in [0, 1]");
  require(o.eps >= 0, "Adadelta", "eps", o.eps, ">= 0");
  require(o.weight_decay >= 0, "Adadelta", "weight_decay", o.weight_decay, ">= 0");
}

void Adadelta::update(std::size_t group, ParamState& s, const Tensor& p, const Tensor& grad) {
  const AdadeltaOptions& o = options(group);
  const Tensor &v = buffer(s, 0, p), &u = buffer(s, 1, p);
  update_elements("Adadelta", p, [&]<typename T>(std::int64_t b, std::int64_t n) {
    auto P = arr<T>(p).segment(b, n);
    auto G = arr<T>(grad).segment(b, n);
    auto V = arr<T>(v).segment(b, n);
    auto U = arr<T>(u).segment(b, n);
    auto d = gradient_term<T>(o, G, P);
    const T rho = T(o.rho), eps = T(o.eps);
    V = rho * V + (T(1) - rho) * d().square();
    // delta needs U before its update and U's update needs delta: one pass, element by element.
    for (std::int64_t i = 0; i < n; ++i) {
      const T delta = std::sqrt(U[i] + eps) / std::sqrt(V[i] + eps) * d()(i);
      U[i] = rho * U[i] + (T(1) - rho) * delta * delta;
      P[i] -= T(o.lr) * delta;
    }
  });
}

}  // namespace tapegrad::optim
