// Gradient clipping: norms of each type over all gradients together, and non-finite handling.
#include <cmath>

#include "../core/helpers.h"

namespace optim = tg::optim;

namespace {
// Two parameters whose gradients are set to known values.
struct Grads {
  tg::Tensor a = leaf_of({0, 0}), b = leaf_of({0, 0, 0});
  Grads(std::vector<double> ga, std::vector<double> gb) {
    (a * tg::from_vector(ga)).sum().backward();
    (b * tg::from_vector(gb)).sum().backward();
  }
  std::vector<tg::Tensor> params() const { return {a, b}; }
};
}  // namespace

TEST_CASE("clip_grad_norm_: the 2-norm over all gradients, scaled by max_norm / (norm + 1e-6)") {
  Grads g({3, 0}, {0, 4, 0});  // joint 2-norm 5
  const double total = optim::clip_grad_norm_(g.params(), 1.0);
  CHECK(total == doctest::Approx(5));
  const double c = 1.0 / (5 + 1e-6);
  check_values(g.a.grad(), {3 * c, 0});
  check_values(g.b.grad(), {0, 4 * c, 0});
}

TEST_CASE("clip_grad_norm_: 1-norm and inf-norm") {
  Grads g1({3, -1}, {0, 4, -2});
  CHECK(optim::clip_grad_norm_(g1.params(), 5.0, 1) == doctest::Approx(10));
  check_values(g1.b.grad(), {0, 4 * 5 / (10 + 1e-6), -2 * 5 / (10 + 1e-6)});
  Grads gi({3, -7}, {0, 4, -2});
  CHECK(optim::clip_grad_norm_(gi.params(), 3.5, optim::kInfNorm) == doctest::Approx(7));
  check_values(gi.a.grad(), {3 * 3.5 / (7 + 1e-6), -7 * 3.5 / (7 + 1e-6)});
  Grads g3({1, 1}, {1, 1, 1});
  CHECK(optim::clip_grad_norm_(g3.params(), 100, 3) == doctest::Approx(std::pow(5.0, 1 / 3.0)));
}

TEST_CASE("clip_grad_norm_: gradients already small enough are left as they are") {
  Grads g({0.3, 0}, {0, 0.4, 0});
  CHECK(optim::clip_grad_norm_(g.params(), 1.0) == doctest::Approx(0.5));
  check_values(g.a.grad(), {0.3, 0});
}

TEST_CASE("clip_grad_norm_: a non-finite norm raises on request, else propagates like PyTorch") {
  Grads g({NAN, 1}, {0, 1, 0});
  CHECK_THROWS_WITH_AS(optim::clip_grad_norm_(g.params(), 1.0, 2, true),
                       doctest::Contains("clip_grad_norm_: the total norm of order 2 is nan"),
                       tg::ValueError);
  CHECK(std::isnan(optim::clip_grad_norm_(g.params(), 1.0)));
  CHECK(std::isnan(g.b.grad().at({1})));
  Grads gi({INFINITY, 1}, {0, 1, 0});
  CHECK_THROWS_AS(optim::clip_grad_norm_(gi.params(), 1.0, optim::kInfNorm, true), tg::ValueError);
  CHECK_THROWS_AS(optim::clip_grad_norm_(g.params(), 1.0, -1), tg::ValueError);
}

TEST_CASE("clip_grad_value_: clamps every element") {
  Grads g({3, -0.5}, {-4, 0.2, 1});
  optim::clip_grad_value_(g.params(), 1.0);
  check_values(g.a.grad(), {1, -0.5});
  check_values(g.b.grad(), {-1, 0.2, 1});
  CHECK_THROWS_AS(optim::clip_grad_value_(g.params(), -1), tg::ValueError);
}
