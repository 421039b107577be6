// ASGD: PyTorch 1.13's _single_tensor_asgd.
#include "tapegrad/optim/asgd.h"

#include <algorithm>
#include <cmath>

#include "update.h"

namespace tapegrad::optim {

void ASGD::validate(const ASGDOptions& o) {
  require(o.lr >= 0, "ASGD", "lr", o.lr, ">= 0");
  require(o.lambd >= 0, "ASGD", "lambd", o.lambd, ">= 0");
  require(o.alpha >= 0, "ASGD", "alpha", o.alpha, ">= 0");
  require(o.t0 >= 0, "ASGD", "t0", o.t0, ">= 0");
  require(o.weight_decay >= 0, "ASGD", "weight_decay", o.weight_decay, ">= 0");
}

void ASGD::update(std::size_t group, ParamState& s, const Tensor& p, const Tensor& grad) {
  const ASGDOptions& o = options(group);
  double &eta = s.scalars[0], &mu = s.scalars[1];
  if (s.step == 1) eta = o.lr, mu = 1;
  const Tensor& ax = buffer(s, 0, p);
  const double shrink = 1 - o.lambd * eta;
  update_elements("ASGD", p, [&]<typename T>(std::int64_t b, std::int64_t n) {
    auto P = arr<T>(p).segment(b, n);
    auto A = arr<T>(ax).segment(b, n);
    auto d = gradient_term<T>(o, arr<T>(grad).segment(b, n), P);
    P = T(shrink) * P - T(eta) * d();  // d reads P before it is written, as torch's
    if (mu != 1)
      A += T(mu) * (P - A);
    else
      A = P;
  });
  const auto t = static_cast<double>(s.step);
  eta = o.lr / std::pow(1 + o.lambd * o.lr * t, o.alpha);
  mu = 1 / std::max(1.0, t - o.t0);
}

}  // namespace tapegrad::optim
