// sum, mean, max, min, argmax.
#include "../helpers.h"

TEST_CASE("sum/mean: values over all elements and along dims") {
  tg::Tensor x = tg::tensor({1, 2, 3, 4, 5, 6}, {2, 3}, {.dtype = tg::kFloat64});
  CHECK(tg::sum(x).item() == 21);
  CHECK(tg::sum(x).dim() == 0);
  CHECK(tg::mean(x).item() == 3.5);
  check_values(tg::sum(x, 0), {5, 7, 9});
  check_values(tg::sum(x, 1), {6, 15});
  CHECK(tg::sum(x, 1, true).shape() == tg::Shape{2, 1});
  CHECK(tg::sum(x, 1).shape() == tg::Shape{2});
  check_values(tg::mean(x, 0), {2.5, 3.5, 4.5});
  check_values(tg::mean(x, -1, true), {2, 5});
  tg::Tensor y = tg::arange(24).reshape({2, 3, 4}).to(tg::kFloat64);
  check_values(tg::sum(y, 1), {12, 15, 18, 21, 48, 51, 54, 57});
  CHECK(tg::sum(tg::from_vector(std::vector<std::int64_t>{2, 3})).item() == 5);
}

TEST_CASE("sum/mean: gradient matches finite differences") {
  tg::Tensor x = leaf({3, 4}), y = leaf({2, 3, 4}, 8);
  check_gradient([&] { return tg::sum(x); }, {x});
  check_gradient([&] { return tg::mean(x); }, {x});
  for (int d : {0, 1}) {
    check_gradient([&] { return tg::sum(x, d); }, {x});
    check_gradient([&] { return tg::mean(x, d, true); }, {x});
  }
  check_gradient([&] { return tg::sum(y, 1); }, {y});
  check_gradient([&] { return tg::mean(y, 2); }, {y});
}

TEST_CASE("max/min/argmax: values and indices along a dim") {
  tg::Tensor x = tg::tensor({1, 5, 3, 7, 2, 7}, {2, 3}, {.dtype = tg::kFloat64});
  auto [v, i] = tg::max(x, 1);
  check_values(v, {5, 7});
  CHECK(i.to_vector<std::int64_t>() == std::vector<std::int64_t>{1, 0});  // first of ties
  auto [v0, i0] = tg::min(x, 0, true);
  CHECK(v0.shape() == tg::Shape{1, 3});
  check_values(v0, {1, 2, 3});
  CHECK(i0.to_vector<std::int64_t>() == std::vector<std::int64_t>{0, 1, 0});
  CHECK(tg::argmax(x, 0).to_vector<std::int64_t>() == std::vector<std::int64_t>{1, 0, 1});
  CHECK(tg::argmax(x, 1).dtype() == tg::kInt64);
  CHECK_FALSE(tg::argmax(leaf({2, 3}), 1).requires_grad());
  CHECK(tg::max(x).item() == 7);
  CHECK(x.min().item() == 1);
  CHECK(tg::max(x).dim() == 0);
}

TEST_CASE("max/min: gradient matches finite differences") {
  tg::Tensor x = leaf({3, 4}), y = leaf({2, 3, 4}, 8);
  for (int d : {0, 1}) {
    check_gradient([&] { return tg::max(x, d).first; }, {x});
    check_gradient([&] { return tg::min(x, d, true).first; }, {x});
  }
  check_gradient([&] { return tg::max(y, 1).first; }, {y});
  check_gradient([&] { return tg::max(x) * tg::min(y); }, {x, y});
}

TEST_CASE("max/sum: bad dims and empty reductions are named") {
  CHECK_THROWS_WITH_AS(tg::sum(tg::zeros({2, 3}), -3), doctest::Contains("sum: dim out of range"),
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(tg::max(tg::zeros({2, 0}), 1),
                       doctest::Contains("max: cannot reduce an empty dim"), tg::ValueError);
  CHECK_THROWS_WITH_AS(tg::mean(tg::zeros({2}, {.dtype = tg::kInt64})),
                       doctest::Contains("mean: needs a floating-point tensor"), tg::ValueError);
}
