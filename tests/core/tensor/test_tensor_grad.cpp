// Tensor's autograd flags: detach, requires_grad_, retain_grad, grad_fn.
#include <thread>

#include "../helpers.h"

TEST_CASE("autograd: detach cuts the gradient and shares storage") {
  tg::Tensor x = leaf_of({2.0});
  tg::Tensor d = (x * x).detach();
  CHECK_FALSE(d.requires_grad());
  CHECK(d.is_leaf());
  (x * d).sum().backward();  // d is a constant 4
  check_values(x.grad(), {4});
}

TEST_CASE("autograd: requires_grad_ only on floating leaves") {
  tg::Tensor x = leaf_of({1.0});
  tg::Tensor y = x * 2.0;
  CHECK_FALSE(y.is_leaf());
  CHECK(y.grad_fn() == "mul");
  CHECK_THROWS_WITH_AS(y.requires_grad_(), doctest::Contains("only leaves can be marked"),
                       tg::StateError);
  CHECK_THROWS_AS(tg::zeros({2}, {.dtype = tg::kInt64}).requires_grad_(), tg::ValueError);
}

TEST_CASE("autograd: retain_grad keeps a non-leaf's gradient") {
  tg::Tensor x = leaf_of({1.0, 2.0});
  tg::Tensor h = x * 3.0;
  h.retain_grad();
  (h * h).sum().backward();
  check_values(h.grad(), {6, 12});
  check_values(x.grad(), {18, 36});
}

TEST_CASE("autograd: grad_fn names the op the user called") {
  tg::Tensor x = leaf({2, 3}), w = leaf({2, 3}, 8);
  CHECK((x + w).grad_fn() == "add");
  CHECK((x - w).grad_fn() == "sub");
  CHECK((x * w).grad_fn() == "mul");
  CHECK((x / w).grad_fn() == "div");
  CHECK((x + 1.0).grad_fn() == "add");
  CHECK((2.0 - x).grad_fn() == "sub");
  CHECK((x * 3.0).grad_fn() == "mul");
  CHECK((x / 4.0).grad_fn() == "div");
  CHECK((-x).grad_fn() == "neg");
  CHECK(tg::affine(x, 2, 1).grad_fn() == "affine");
}
