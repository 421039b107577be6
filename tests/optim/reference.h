// An independent check of every optimizer: a fixed problem whose gradient is known in closed
// form, and a driver that runs a tapegrad optimizer beside a plain-double reference rule.
#pragma once
#include <functional>

#include "../core/helpers.h"

// loss(w) = sum_i q_i (w_i - c_i)^2 + 0.1 w_i^4: convex, with gradients that change every step.
struct Quartic {
  std::vector<double> q{1.0, 0.5, 2.0, 1.5, 0.25, 3.0}, c{0.5, -1.0, 2.0, 0.0, 1.0, -0.5};
  std::vector<double> w0{0.3, -0.7, 1.1, -0.2, 0.9, 0.4};

  tg::Tensor start() const {
    return tg::from_vector(w0, {2, 3}, {.dtype = tg::kFloat64, .requires_grad = true});
  }
  tg::Tensor loss(const tg::Tensor& w) const {
    const tg::Tensor Q = tg::from_vector(q, {2, 3}), C = tg::from_vector(c, {2, 3});
    return (Q * tg::pow(w - C, 2) + 0.1 * tg::pow(w, 4)).sum();
  }
  double grad(std::size_t i, double w) const { return 2 * q[i] * (w - c[i]) + 0.4 * w * w * w; }
};

/// One reference step for element i at step t (1-based): updates w given g, keeping its own
/// per-element state.
using RefStep = std::function<void(int t, std::size_t i, double& w, double g)>;

/// Runs `steps` steps of opt on the quartic and of ref, and checks every parameter after every
/// step to 1e-10 relative.
template <typename Opt>
void check_trajectory(Opt& opt, tg::Tensor w, const RefStep& ref, int steps = 8) {
  Quartic prob;
  std::vector<double> r = prob.w0;
  for (int t = 1; t <= steps; ++t) {
    opt.zero_grad();
    prob.loss(w).backward();
    opt.step();
    for (std::size_t i = 0; i < r.size(); ++i) ref(t, i, r[i], prob.grad(i, r[i]));
    const auto got = w.to_vector<double>();
    for (std::size_t i = 0; i < r.size(); ++i) {
      INFO("step " << t << ", element " << i << ": tapegrad " << got[i] << ", reference " << r[i]);
      CHECK(std::abs(got[i] - r[i]) <= 1e-10 * std::max(1.0, std::abs(r[i])));
    }
  }
}
