// Extrema over dims: amax/amin and max()/min() of a whole tensor, their ties and NaNs.
#include "../helpers.h"

TEST_CASE("amax/amin: one dim, several, or all, and keepdim") {
  const tg::Tensor x = tg::tensor({1, 7, 3, 4, 2, 9, 0, 5, 6, 8, 1, 2}, {2, 3, 2});
  check_values(tg::amax(x), {9});
  CHECK(tg::amax(x).shape() == tg::Shape{});
  check_values(tg::amax(x, 1), {3, 9, 6, 8});
  check_values(tg::amin(x, {0, 2}), {0, 3, 1});
  CHECK(tg::amax(x, {0, 2}, true).shape() == tg::Shape{1, 3, 1});
  check_values(tg::amax(x, {-1, 0}, true), {7, 8, 9});
  const tg::Tensor i = tg::tensor({3, -2, 5}, {}, {.dtype = tg::kInt64});
  CHECK(tg::amax(i).dtype() == tg::kInt64);
  check_values(tg::amin(i), {-2});
}

TEST_CASE("amax/amin and max()/min(): ties share the gradient evenly, as torch") {
  tg::Tensor x = leaf_of({3, 1, 3, 2, 2, 0}, {2, 3});
  tg::amax(x, 1).sum().backward();
  check_values(x.grad(), {0.5, 0, 0.5, 0.5, 0.5, 0});
  x.zero_grad();
  tg::max(x).backward();
  check_values(x.grad(), {0.5, 0, 0.5, 0, 0, 0});
  x.zero_grad();
  tg::min(x).backward();
  check_values(x.grad(), {0, 0, 0, 0, 0, 1});
  x.zero_grad();
  tg::max(x, 1).first.sum().backward();  // max along a dim keeps sending to the index
  check_values(x.grad(), {1, 0, 0, 1, 0, 0});
}

TEST_CASE("amax and max(): NaN wins, and max() shares the gradient among the NaNs") {
  tg::Tensor x = leaf_of({1, NAN, 3, NAN});
  CHECK(std::isnan(tg::amax(x).item()));
  CHECK(std::isnan(tg::amin(x).item()));
  tg::max(x).backward();
  check_values(x.grad(), {0, 0.5, 0, 0.5});
  const std::vector<double> rows =
      tg::amax(tg::tensor({1, NAN, 3, 4}, {2, 2}), 1).to_vector<double>();
  CHECK(std::isnan(rows[0]));
  CHECK(rows[1] == 4);
}
