// RMSprop: PyTorch 1.13's _single_tensor_rmsprop (eps added after the square root).
#include "tapegrad/optim/rmsprop.h"

#include "update.h"

namespace tapegrad::optim {

void RMSprop::validate(const RMSpropOptions& o) {
  require(o.lr >= 0, "RMSprop", "lr", o.lr, ">= 0");
  require(o.alpha >= 0, "RMSprop", "alpha", o.alpha, ">= 0");
  require(o.eps >= 0, "RMSprop", "eps", o.eps, ">= 0");
  require(o.weight_decay >= 0, "RMSprop", "weight_decay", o.weight_decay, ">= 0");
  require(o.momentum >= 0, "RMSprop", "momentum", o.momentum, ">= 0");
}

void RMSprop::update(std::size_t group, ParamState& s, const Tensor& p, const Tensor& grad) {
  const RMSpropOptions& o = options(group);
  const Tensor& sq = buffer(s, 0, p);
  const Tensor* mean = o.centered ? &buffer(s, 1, p) : nullptr;
  const Tensor* mom = o.momentum > 0 ? &buffer(s, 2, p) : nullptr;
  update_elements("RMSprop", p, [&]<typename T>(std::int64_t b, std::int64_t n) {
    auto P = arr<T>(p).segment(b, n);
    auto G = arr<T>(grad).segment(b, n);
    auto V = arr<T>(sq).segment(b, n);
    const T alpha = T(o.alpha);
    auto d = gradient_term<T>(o, G, P);
    V = alpha * V + (T(1) - alpha) * d().square();
    // avg arrives as an Eigen expression, evaluated where it is used: no temporary array.
    auto step = [&](const auto& avg) {
      if (mom) {
        auto B = arr<T>(*mom).segment(b, n);
        B = T(o.momentum) * B + d() / avg;
        P -= T(o.lr) * B;
      } else {
        P -= T(o.lr) * d() / avg;
      }
    };
    if (mean) {
      auto M = arr<T>(*mean).segment(b, n);
      M = alpha * M + (T(1) - alpha) * d();
      step((V - M.square()).sqrt() + T(o.eps));
    } else {
      step(V.sqrt() + T(o.eps));
    }
  });
}

}  // namespace tapegrad::optim
