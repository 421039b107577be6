// The p-norm over dims.
#include "../helpers.h"

TEST_CASE("norm: p = 1, 2, inf and others, over all or some dims") {
  const tg::Tensor x = tg::tensor({3, -4, 0, 1, -2, 2}, {2, 3}, {.dtype = tg::kFloat64});
  check_values(tg::norm(x), {std::sqrt(34.0)});
  check_values(tg::norm(x, 1), {12});
  check_values(tg::norm(x, INFINITY), {4});
  check_values(tg::norm(x, 2, 1), {5, 3});
  check_values(tg::norm(x, 1, 0, true), {4, 6, 2});
  check_values(tg::norm(x, 3, 1), {std::cbrt(27.0 + 64), std::cbrt(1.0 + 8 + 8)});
  check_values(tg::norm(x, 0.5, 1),
               {std::pow(std::sqrt(3.0) + 2, 2), std::pow(1 + 2 * std::sqrt(2.0), 2)});
  CHECK(tg::norm(tg::zeros({0}), INFINITY).item() == 0);
}

TEST_CASE("norm: the gradient at a zero norm is 0, and inf-norm ties share it") {
  tg::Tensor z = leaf_of({0, 0, 0});
  tg::norm(z).backward();
  check_values(z.grad(), {0, 0, 0});
  z.zero_grad();
  tg::norm(z, 1).backward();
  check_values(z.grad(), {0, 0, 0});
  z.zero_grad();
  tg::norm(z, 0.5).backward();
  check_values(z.grad(), {0, 0, 0});
  tg::Tensor x = leaf_of({3, -3, 1, 2});
  tg::norm(x, INFINITY).backward();
  check_values(x.grad(), {0.5, -0.5, 0, 0});
}
