// permute and flip: values, gradients by finite differences, and their errors.
#include "../helpers.h"

TEST_CASE("permute: reorders dims (a copy), and permuting back is the identity") {
  const tg::Tensor x = tg::arange(24).reshape({2, 3, 4});
  const tg::Tensor y = tg::permute(x, {2, 0, 1});
  CHECK(y.shape() == tg::Shape{4, 2, 3});
  CHECK(y.at({1, 1, 2}) == x.at({1, 2, 1}));
  CHECK(y.at({3, 0, 1}) == x.at({0, 1, 3}));
  check_values(tg::permute(y, {1, 2, 0}), x.to_vector<double>());
  check_values(tg::permute(x, {0, 1, 2}), x.to_vector<double>());
  check_values(tg::permute(tg::arange(6).reshape({2, 3}), {1, 0}),
               tg::transpose(tg::arange(6).reshape({2, 3}), 0, 1).to_vector<double>());
  CHECK(x.permute({-1, 0, 1}).shape() == tg::Shape{4, 2, 3});
  CHECK(tg::permute(tg::scalar_tensor(3), {}).item() == 3);
  CHECK(tg::permute(tg::zeros({2, 0, 3}), {2, 1, 0}).shape() == tg::Shape{3, 0, 2});
}

TEST_CASE("flip: reverses the given dims") {
  const tg::Tensor x = tg::arange(6).reshape({2, 3});
  check_values(tg::flip(x, {0}), {3, 4, 5, 0, 1, 2});
  check_values(tg::flip(x, {1}), {2, 1, 0, 5, 4, 3});
  check_values(tg::flip(x, {0, -1}), {5, 4, 3, 2, 1, 0});
  check_values(x.flip({}), x.to_vector<double>());
  check_values(tg::flip(tg::arange(4), {0}), {3, 2, 1, 0});
  CHECK(tg::flip(tg::zeros({0, 3}), {0}).shape() == tg::Shape{0, 3});
}

TEST_CASE("permute/flip: gradients match finite differences") {
  tg::Tensor x = leaf({2, 3, 4});
  for (const std::vector<std::int64_t>& p :
       {std::vector<std::int64_t>{2, 0, 1}, {1, 2, 0}, {0, 2, 1}, {2, 1, 0}})
    check_gradient([&] { return tg::permute(x, p); }, {x});
  for (const std::vector<std::int64_t>& d :
       {std::vector<std::int64_t>{0}, {1}, {2}, {0, 2}, {0, 1, 2}})
    check_gradient([&] { return tg::flip(x, d); }, {x});
  // Through a chain: permute then flip then a broadcasting product.
  tg::Tensor w = leaf({4, 1, 1}, 3);
  check_gradient([&] { return tg::flip(tg::permute(x, {2, 0, 1}), {1}) * w; }, {x, w});
}

TEST_CASE("permute/flip: bad dims are named") {
  const tg::Tensor x = tg::zeros({2, 3});
  CHECK_THROWS_WITH_AS(tg::permute(x, {0}),
                       doctest::Contains("permute: 1 dims given for a tensor of rank 2"),
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(tg::permute(x, {1, -1}),
                       doctest::Contains("permute: dim 1 appears more than once"), tg::ValueError);
  CHECK_THROWS_WITH_AS(tg::permute(x, {0, 2}), doctest::Contains("permute: dim out of range"),
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(tg::flip(x, {0, 0}), doctest::Contains("flip: dim 0 appears more than once"),
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(tg::flip(x, {3}), doctest::Contains("flip: dim out of range"),
                       tg::ValueError);
}
