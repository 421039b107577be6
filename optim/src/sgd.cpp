// SGD: PyTorch 1.13's _single_tensor_sgd, rule for rule.
#include "tapegrad/optim/sgd.h"

#include "update.h"

namespace tapegrad::optim {

void SGD::validate(const SGDOptions& o) {
  require(o.lr >= 0, "SGD", "lr", o.lr, ">= 0 (set it: SGD has no default lr)");
  require(o.momentum >= 0, "SGD", "momentum", o.momentum, ">= 0");
  require(o.weight_decay >= 0, "SGD", "weight_decay", o.weight_decay, ">= 0");
  require(!o.nesterov || (o.momentum > 0 && o.dampening == 0), "SGD", "nesterov", 1,
          "used with momentum > 0 and dampening 0");
}

void SGD::update(std::size_t group, ParamState& s, const Tensor& p, const Tensor& grad) {
  const SGDOptions& o = options(group);
  Tensor* buf = o.momentum != 0 ? &buffer(s, 0, p) : nullptr;
  const bool first = s.step == 1;
  update_elements("SGD", p, [&]<typename T>(std::int64_t b, std::int64_t n) {
    auto P = arr<T>(p).segment(b, n);
    auto G = arr<T>(grad).segment(b, n);
    const T mu = T(o.momentum);
    auto d = gradient_term<T>(o, G, P);
    if (!buf) {
      P -= T(o.lr) * d();
      return;
    }
    auto B = arr<T>(*buf).segment(b, n);
    if (first)  // the buffer starts as the first gradient, undamped
      B = d();
    else
      B = mu * B + T(1 - o.dampening) * d();
    if (o.nesterov)
      P -= T(o.lr) * (d() + mu * B);
    else
      P -= T(o.lr) * B;
  });
}

}  // namespace tapegrad::optim
