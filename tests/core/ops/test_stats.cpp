// logsumexp, var and std; and the checks shared by every reduction over dims (amax,
// logsumexp, var, std, norm, cumsum): gradients, float32 against float64, bad arguments.
#include "../helpers.h"

TEST_CASE("logsumexp: values, and finite at +-1000") {
  const tg::Tensor x = tg::tensor({0, 1, 2, 3, 4, 5}, {2, 3}, {.dtype = tg::kFloat64});
  check_values(tg::logsumexp(x, 1), {std::log(1 + std::exp(1.0) + std::exp(2.0)),
                                     3 + std::log(1 + std::exp(1.0) + std::exp(2.0))});
  check_values(tg::logsumexp(tg::tensor({1000, 1000, -1000}, {}, {.dtype = tg::kFloat64}), 0),
               {1000 + std::log(2.0)});
  check_values(tg::logsumexp(tg::tensor({-1000, -1000}, {}, {.dtype = tg::kFloat64}), 0),
               {-1000 + std::log(2.0)});
  // All -inf gives -inf (the shift is taken as 0, as torch's), +inf gives +inf.
  CHECK(tg::logsumexp(tg::full({3}, -INFINITY), 0).item() == -INFINITY);
  CHECK(tg::logsumexp(tg::tensor({INFINITY, 1}), 0).item() == INFINITY);
}

TEST_CASE("var/std: corrections, dims and keepdim") {
  const tg::Tensor x = tg::tensor({1, 2, 3, 4, 6, 8}, {2, 3}, {.dtype = tg::kFloat64});
  check_values(tg::var(x, 1), {1, 4});
  check_values(tg::var(x, 1, 0), {2.0 / 3, 8.0 / 3});
  check_values(tg::std(x, 1), {1, 2});
  check_values(tg::var(x, 0, 1, true), {4.5, 8, 12.5});
  CHECK(tg::var(x, 0, 1, true).shape() == tg::Shape{1, 3});
  const double ss = 9 + 4 + 1 + 0 + 4 + 16;  // squared deviations from the mean, 4
  check_values(tg::var(x), {ss / 5});
  check_values(tg::std(x, {}, 0), {std::sqrt(ss / 6)});
  // N - correction <= 0 divides by zero, as torch: inf (or NaN for a zero sum).
  CHECK(tg::var(tg::tensor({1, 2}), {}, 2).item() == INFINITY);
  CHECK(std::isnan(tg::var(tg::tensor({1}), {}).item()));
}

TEST_CASE("amax/logsumexp/var/std/norm/cumsum: gradients match finite differences") {
  tg::Tensor x = leaf({3, 4, 5});
  for (const tg::Dims& d : {tg::Dims{}, tg::Dims{1}, tg::Dims{0, 2}, tg::Dims{-1}}) {
    for (bool keepdim : {false, true}) {
      INFO("dims " << d.dims.size() << " keepdim " << keepdim);
      check_gradient([&] { return tg::amax(x, d, keepdim); }, {x});
      check_gradient([&] { return tg::amin(x, d, keepdim); }, {x});
      if (!d.dims.empty()) check_gradient([&] { return tg::logsumexp(x, d, keepdim); }, {x});
      check_gradient([&] { return tg::var(x, d, 1, keepdim); }, {x});
      check_gradient([&] { return tg::std(x, d, 0, keepdim); }, {x});
      for (double p : {1.0, 2.0, 3.0, 1.5, double(INFINITY)})
        check_gradient([&] { return tg::norm(x, p, d, keepdim); }, {x});
    }
  }
  check_gradient([&] { return tg::max(x); }, {x});
  check_gradient([&] { return tg::min(x); }, {x});
  for (std::int64_t dim : {0, 1, 2, -1}) check_gradient([&] { return tg::cumsum(x, dim); }, {x});
}

TEST_CASE("amax/logsumexp/var/norm: float32 agrees with float64") {
  const tg::Tensor x64 = tg::randn({4, 6}, {.dtype = tg::kFloat64});
  const tg::Tensor x32 = x64.to(tg::kFloat32);
  check_values(tg::amax(x32, 1), tg::amax(x64, 1).to_vector<double>(), 1e-6);
  check_values(tg::logsumexp(x32, 0), tg::logsumexp(x64, 0).to_vector<double>(), 1e-6);
  check_values(tg::var(x32, 1), tg::var(x64, 1).to_vector<double>(), 1e-5);
  check_values(tg::norm(x32, 3, 1), tg::norm(x64, 3, 1).to_vector<double>(), 1e-6);
  check_values(tg::cumsum(x32, 1), tg::cumsum(x64, 1).to_vector<double>(), 1e-6);
}

TEST_CASE("amax/logsumexp/var/norm/cumsum: bad arguments are named") {
  const tg::Tensor x = tg::zeros({2, 3});
  CHECK_THROWS_WITH_AS(tg::amax(x, {1, -1}),
                       doctest::Contains("amax: dim 1 appears more than once in the dims"),
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(tg::var(x, 2), doctest::Contains("var: dim out of range: got 2"),
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(tg::amax(tg::zeros({2, 0}), 1),
                       doctest::Contains("amax: cannot reduce over an empty dim (shape [2, 0])"),
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(tg::logsumexp(tg::zeros({2}, {.dtype = tg::kInt64}), 0),
                       doctest::Contains("logsumexp: needs a floating-point tensor"),
                       tg::ValueError);
  for (double p : {0.0, -1.0, -double(INFINITY), double(NAN)})
    CHECK_THROWS_WITH_AS(tg::norm(x, p), doctest::Contains("norm: p must be positive"),
                         tg::ValueError);
  CHECK_THROWS_WITH_AS(tg::std(x, {}, NAN), doctest::Contains("std: correction must be finite"),
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(tg::cumsum(x, 2), doctest::Contains("cumsum: dim out of range"),
                       tg::ValueError);
}

TEST_CASE("std: a constant's gradient is 0, as torch's, on both backward paths") {
  // torch 1.13: torch.std(torch.ones(3, requires_grad=True)).backward() gives [0, 0, 0].
  const tg::Tensor x = leaf_of({2.0, 2.0, 2.0, 1.0, 3.0, 5.0}, {2, 3});
  const tg::Tensor y = tg::std(x, 1);
  check_values(tg::grad({tg::sum(y)}, {x})[0], {0, 0, 0, -0.5, 0, 0.5});
  const tg::Tensor g = tg::grad({tg::sum(tg::std(x, 1))}, {x}, {}, {.create_graph = true})[0];
  check_values(g.detach(), {0, 0, 0, -0.5, 0, 0.5});
}
