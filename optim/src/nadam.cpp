// NAdam: torch 1.13's rule with the corrected mu product (nadam.h says how it differs from
// 1.13's default path). mu_product is per-parameter state.
#include "tapegrad/optim/nadam.h"

#include <cmath>

#include "update.h"
#include "validate.h"

namespace tapegrad::optim {

void NAdam::validate(const NAdamOptions& o) {
  validate_adam_family("NAdam", o);
  require(o.momentum_decay >= 0, "NAdam", "momentum_decay", o.momentum_decay, ">= 0");
}

void NAdam::update(std::size_t group, ParamState& s, const Tensor& p, const Tensor& grad) {
  const NAdamOptions& o = options(group);
  const Tensor &m = buffer(s, 0, p), &v = buffer(s, 1, p);
  const auto t = static_cast<double>(s.step);
  if (s.step == 1) s.scalars[0] = 1;  // mu_product starts at 1
  const double b1 = o.betas.first, b2 = o.betas.second;
  const double bc2 = 1 - std::pow(b2, t);
  const double mu = b1 * (1 - 0.5 * std::pow(0.96, t * o.momentum_decay));
  const double mu_next = b1 * (1 - 0.5 * std::pow(0.96, (t + 1) * o.momentum_decay));
  s.scalars[0] *= mu;
  const double mu_product = s.scalars[0], mu_product_next = mu_product * mu_next;
  const double c_grad = o.lr * (1 - mu) / (1 - mu_product);
  const double c_avg = o.lr * mu_next / (1 - mu_product_next);
  update_elements("NAdam", p, [&]<typename T>(std::int64_t b, std::int64_t n) {
    auto P = arr<T>(p).segment(b, n);
    auto G = arr<T>(grad).segment(b, n);
    auto M = arr<T>(m).segment(b, n);
    auto V = arr<T>(v).segment(b, n);
    auto d = gradient_term<T>(o, G, P);
    M = T(b1) * M + T(1 - b1) * d();
    V = T(b2) * V + T(1 - b2) * d().square();
    // Both terms share the denominator and read P before it changes.
    P -= (T(c_grad) * d() + T(c_avg) * M) / ((V / T(bc2)).sqrt() + T(o.eps));
  });
}

}  // namespace tapegrad::optim
