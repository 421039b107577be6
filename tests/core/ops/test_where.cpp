// where, masked_fill, maximum, minimum, tril, triu: selection and elementwise extrema.
#include "../helpers.h"

TEST_CASE("where: picks by a non-zero condition, broadcasting all three") {
  const tg::Tensor cond = tg::tensor({1, 0, 1}, {3});
  tg::Tensor a = leaf_of({1, 2, 3, 4, 5, 6}, {2, 3});
  tg::Tensor b = leaf_of({-1, -2}, {2, 1});
  const tg::Tensor y = tg::where(cond, a, b);
  CHECK(y.shape() == tg::Shape{2, 3});
  check_values(y, {1, -1, 3, 4, -2, 6});
  (y * tg::tensor({1, 2, 3, 4, 5, 6}, {2, 3}, {.dtype = tg::kFloat64})).sum().backward();
  check_values(a.grad(), {1, 0, 3, 4, 0, 6});
  check_values(b.grad(), {2, 5});  // each row's one unpicked element
  // The condition may be the one that widens the result.
  CHECK(tg::where(tg::ones({4, 1, 1}), tg::zeros({3}), tg::zeros({2, 1})).shape() ==
        tg::Shape{4, 2, 3});
}

TEST_CASE("where: the condition is tested in its own dtype (0.5 and NaN count as set)") {
  const tg::Tensor cond = tg::tensor({0.5, 0, NAN, -0.0}, {}, {.dtype = tg::kFloat64});
  check_values(tg::where(cond, tg::ones({4}), tg::zeros({4})), {1, 0, 1, 0});
  const tg::Tensor icond = tg::tensor({3, 0}, {}, {.dtype = tg::kInt64});
  check_values(tg::where(icond, tg::tensor({1, 2}), tg::tensor({7, 8})), {1, 8});
}

TEST_CASE("where: scalar operands and dtype promotion") {
  const tg::Tensor cond = tg::tensor({1, 0});
  const tg::Tensor x = tg::tensor({5, 6}, {}, {.dtype = tg::kFloat64});
  const tg::Tensor y = tg::where(cond, x, 0.0);
  CHECK(y.dtype() == tg::kFloat64);
  check_values(y, {5, 0});
  check_values(tg::where(cond, -1.0, x), {-1, 6});
  const tg::Tensor i = tg::tensor({5, 6}, {}, {.dtype = tg::kInt64});
  CHECK(tg::where(cond, i, 2.0).dtype() == tg::kInt64);
  CHECK(tg::where(cond, i, 2.5).dtype() == tg::kFloat32);  // a fraction promotes, as torch
  CHECK(tg::where(cond, tg::tensor({1, 2}), x).dtype() == tg::kFloat64);
}

TEST_CASE("where: gradient matches finite differences with broadcasting") {
  tg::Generator gen(3);
  const tg::Tensor cond = tg::gt(tg::randn({3, 1, 4}, {}, &gen), tg::zeros({1}));
  tg::Tensor a = leaf({2, 4});
  tg::Tensor b = leaf({3, 2, 1}, 9);
  check_gradient([&] { return tg::where(cond, a, b); }, {a, b});
  check_gradient([&] { return tg::where(cond, a, 0.5); }, {a});
}

TEST_CASE("where/masked_fill: shapes that do not broadcast are named") {
  CHECK_THROWS_WITH_AS(tg::where(tg::ones({2}), tg::ones({3}), tg::ones({3})),
                       doctest::Contains("where: shapes"), tg::ShapeError);
  CHECK_THROWS_WITH_AS(tg::masked_fill(tg::zeros({2, 3}), tg::ones({4, 1, 3}), 0),
                       doctest::Contains("masked_fill: mask of shape [4, 1, 3] does not broadcast "
                                         "to the input's shape [2, 3]"),
                       tg::ShapeError);
  CHECK_THROWS_WITH_AS(tg::masked_fill(tg::zeros({2, 3}), tg::ones({2}), 0),
                       doctest::Contains("masked_fill: shapes [2] and [2, 3] cannot broadcast"),
                       tg::ShapeError);
  CHECK_THROWS_WITH_AS(tg::where(tg::Tensor(), tg::ones({3}), tg::ones({3})),
                       doctest::Contains("where"), tg::Error);
}

TEST_CASE("masked_fill: fills where the mask is set, and no gradient flows there") {
  tg::Tensor x = leaf_of({1, 2, 3, 4, 5, 6}, {2, 3});
  const tg::Tensor mask = tg::tensor({0, 1, 0}, {3});
  const tg::Tensor y = tg::masked_fill(x, mask, -INFINITY);
  CHECK(y.shape() == x.shape());
  const std::vector<double> v = y.to_vector<double>();
  CHECK(v[0] == 1);
  CHECK(v[1] == -INFINITY);
  CHECK(v[4] == -INFINITY);
  tg::masked_fill(x, mask, 9).sum().backward();
  check_values(x.grad(), {1, 0, 1, 1, 0, 1});
  check_gradient([&] { return tg::masked_fill(x, mask, 0.25); }, {x});
  // An int64 input takes the value truncated, as torch.
  check_values(
      tg::masked_fill(tg::tensor({1, 2}, {}, {.dtype = tg::kInt64}), tg::tensor({1, 0}), 2.7),
      {2, 2});
  CHECK_THROWS_AS(
      tg::masked_fill(tg::tensor({1, 2}, {}, {.dtype = tg::kInt64}), tg::tensor({1, 0}), NAN),
      tg::ValueError);
}

TEST_CASE("maximum/minimum: values, NaN and broadcasting") {
  const tg::Tensor a = tg::tensor({1, 5, 3, NAN}, {}, {.dtype = tg::kFloat64});
  const tg::Tensor b = tg::tensor({2, 4, 3, 0}, {}, {.dtype = tg::kFloat64});
  std::vector<double> mx = tg::maximum(a, b).to_vector<double>();
  std::vector<double> mn = tg::minimum(a, b).to_vector<double>();
  CHECK(mx[0] == 2);
  CHECK(mx[1] == 5);
  CHECK(mx[2] == 3);
  CHECK(std::isnan(mx[3]));
  CHECK(mn[0] == 1);
  CHECK(mn[1] == 4);
  CHECK(std::isnan(mn[3]));
  CHECK(tg::maximum(tg::zeros({3, 1}), tg::zeros({4})).shape() == tg::Shape{3, 4});
  const tg::Tensor i = tg::maximum(tg::tensor({1, 7}, {}, {.dtype = tg::kInt64}),
                                   tg::tensor({3, 2}, {}, {.dtype = tg::kInt64}));
  CHECK(i.dtype() == tg::kInt64);
  check_values(i, {3, 7});
}

TEST_CASE("maximum/minimum: a tie splits the gradient evenly, as torch") {
  tg::Tensor a = leaf_of({1, 5, 3});
  tg::Tensor b = leaf_of({2, 4, 3});
  tg::maximum(a, b).sum().backward();
  check_values(a.grad(), {0, 1, 0.5});
  check_values(b.grad(), {1, 0, 0.5});
  a.zero_grad();
  b.zero_grad();
  tg::minimum(a, b).sum().backward();
  check_values(a.grad(), {1, 0, 0.5});
  check_values(b.grad(), {0, 1, 0.5});
}

TEST_CASE("maximum/minimum: gradient matches finite differences with broadcasting") {
  tg::Tensor a = leaf({3, 4});
  tg::Tensor b = leaf({4}, 5);
  tg::Tensor c = leaf({2, 1, 1}, 6);
  check_gradient([&] { return tg::maximum(a, b); }, {a, b});
  check_gradient([&] { return tg::minimum(a, c); }, {a, c});
}

TEST_CASE("tril/triu: triangles at every diagonal offset, batched, any dtype") {
  const tg::Tensor x = tg::arange(1.0, 13.0).reshape({3, 4});
  check_values(tg::tril(x), {1, 0, 0, 0, 5, 6, 0, 0, 9, 10, 11, 0});
  check_values(tg::triu(x), {1, 2, 3, 4, 0, 6, 7, 8, 0, 0, 11, 12});
  check_values(tg::tril(x, 1), {1, 2, 0, 0, 5, 6, 7, 0, 9, 10, 11, 12});
  check_values(tg::triu(x, -1), {1, 2, 3, 4, 5, 6, 7, 8, 0, 10, 11, 12});
  check_values(tg::tril(x, -1), {0, 0, 0, 0, 5, 0, 0, 0, 9, 10, 0, 0});
  // Offsets past the matrix keep everything or nothing, without overflow.
  CHECK(tg::tril(x, INT64_MAX).to_vector<double>() == x.to_vector<double>());
  CHECK(tg::triu(x, INT64_MIN).to_vector<double>() == x.to_vector<double>());
  CHECK(tg::tril(x, INT64_MIN).abs().sum().item() == 0);
  CHECK(tg::triu(x, INT64_MAX).abs().sum().item() == 0);
  // A causal mask for attention: each of a batch of (T, T) matrices.
  const tg::Tensor causal = tg::tril(tg::ones({2, 3, 3}, {.dtype = tg::kInt64}));
  CHECK(causal.dtype() == tg::kInt64);
  CHECK(causal.to_vector<std::int64_t>() ==
        std::vector<std::int64_t>{1, 0, 0, 1, 1, 0, 1, 1, 1, 1, 0, 0, 1, 1, 0, 1, 1, 1});
  CHECK(tg::triu(tg::zeros({2, 0, 3})).shape() == tg::Shape{2, 0, 3});
  CHECK_THROWS_WITH_AS(tg::tril(tg::zeros({4})),
                       doctest::Contains("tril: expects a tensor of at least 2 dims, got [4]"),
                       tg::ShapeError);
}

TEST_CASE("tril/triu: the gradient flows to the kept triangle") {
  const tg::Tensor x = leaf({2, 3, 4});
  for (std::int64_t d : {-2, 0, 1}) {
    INFO("diagonal " << d);
    check_gradient([&] { return tg::tril(x, d); }, {x});
    check_gradient([&] { return tg::triu(x, d); }, {x});
  }
}
