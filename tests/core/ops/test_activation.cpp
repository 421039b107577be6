// sigmoid, tanh, relu, leaky_relu, softplus, elu, gelu, silu, hardtanh, relu6, softmax,
// log_softmax.
#include "../helpers.h"

TEST_CASE("sigmoid/tanh/relu/leaky_relu: values") {
  tg::Tensor x = tg::tensor({-2, 0, 3}, {}, {.dtype = tg::kFloat64});
  check_values(tg::sigmoid(x), {1 / (1 + std::exp(2.0)), 0.5, 1 / (1 + std::exp(-3.0))});
  check_values(tg::tanh(x), {std::tanh(-2.0), 0, std::tanh(3.0)});
  check_values(tg::relu(x), {0, 0, 3});
  check_values(tg::leaky_relu(x, 0.1), {-0.2, 0, 3});
  check_values(tg::sigmoid(tg::tensor({-1000, 1000})), {0, 1});
}

TEST_CASE("sigmoid/tanh/relu/leaky_relu: gradient matches finite differences") {
  tg::Tensor x = leaf({3, 4});
  check_gradient([&] { return tg::sigmoid(x); }, {x});
  check_gradient([&] { return tg::tanh(x); }, {x});
  check_gradient([&] { return tg::relu(x); }, {x});
  check_gradient([&] { return tg::leaky_relu(x, 0.2); }, {x});
}

TEST_CASE("softmax/log_softmax: values along each dim") {
  tg::Tensor x = tg::tensor({1, 2, 3, 1, 1, 1}, {2, 3}, {.dtype = tg::kFloat64});
  const double z = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
  check_values(tg::softmax(x, 1), {std::exp(1.0) / z, std::exp(2.0) / z, std::exp(3.0) / z, 1 / 3.0,
                                   1 / 3.0, 1 / 3.0});
  check_values(tg::log_softmax(x, -1), {1 - std::log(z), 2 - std::log(z), 3 - std::log(z),
                                        -std::log(3.0), -std::log(3.0), -std::log(3.0)});
  auto sig = [](double v) { return 1 / (1 + std::exp(-v)); };  // softmax of a pair is a sigmoid
  check_values(tg::softmax(x, 0), {0.5, sig(1), sig(2), 0.5, sig(-1), sig(-2)});
}

TEST_CASE("softmax/log_softmax: finite for logits of +-1000") {
  tg::Tensor x = tg::tensor({1000, -1000, 0, -1000, 1000, 999}, {2, 3}, {.dtype = tg::kFloat64});
  check_values(tg::softmax(x, 1), {1, 0, 0, 0, 1 / (1 + std::exp(-1.0)), 1 / (1 + std::exp(1.0))});
  check_values(tg::log_softmax(x, 1),
               {0, -2000, -1000, -2000 - std::log1p(std::exp(-1.0)), -std::log1p(std::exp(-1.0)),
                -1 - std::log1p(std::exp(-1.0))});
  tg::Tensor w = leaf_of({1000, -1000, 0, -1000, 1000, 999}, {2, 3});
  tg::log_softmax(w, 1).sum().backward();
  for (double g : w.grad().to_vector<double>()) CHECK(std::isfinite(g));
}

TEST_CASE("softmax/log_softmax: gradient matches finite differences along every dim") {
  tg::Tensor x = leaf({3, 4});
  tg::Tensor y = leaf({2, 3, 4}, 8);
  for (int d : {0, 1, -1}) {
    INFO("dim " << d);
    check_gradient([&] { return tg::softmax(x, d); }, {x});
    check_gradient([&] { return tg::log_softmax(x, d); }, {x});
  }
  check_gradient([&] { return tg::softmax(y, 1); }, {y});
  check_gradient([&] { return tg::log_softmax(y, 1); }, {y});
}

TEST_CASE("softmax: a bad dim is named") {
  CHECK_THROWS_WITH_AS(tg::softmax(tg::zeros({2, 3}), 2),
                       doctest::Contains("softmax: dim out of range: got 2 for a tensor of rank 2"),
                       tg::ValueError);
}

TEST_CASE("softmax/log_softmax: masked (-inf) logits, and a row masked entirely, as torch") {
  // torch 1.13: softmax(x.masked_fill(m, -inf), 1) with row 0 masked entirely is NaN there,
  // and x's gradient through masked_fill is 0 at every masked logit (NaN included).
  tg::Tensor x = leaf_of({1, 2, 3, 0.5, 0.1, 0.2}, {2, 3});
  const tg::Tensor m = tg::tensor({1, 1, 1, 0, 1, 0}, {2, 3}, {.dtype = tg::kInt64});
  const tg::Tensor g = tg::tensor({1, 2, 3, 1, 2, 3}, {2, 3}, {.dtype = tg::kFloat64});
  const tg::Tensor y = tg::softmax(tg::masked_fill(x, m, -INFINITY), 1);
  for (std::int64_t j = 0; j < 3; ++j) CHECK(std::isnan(y.at({0, j})));
  // Row 1 is the softmax of its two unmasked logits, and 0 at the masked one.
  const double p0 = 1 / (1 + std::exp(0.2 - 0.5)), p2 = 1 - p0;
  CHECK(y.at({1, 0}) == doctest::Approx(p0).epsilon(1e-15));
  CHECK(y.at({1, 1}) == 0);
  CHECK(y.at({1, 2}) == doctest::Approx(p2).epsilon(1e-15));
  (y * g).sum().backward();
  // gx = y (g - sum(g y)) on the unmasked logits: p0 (1 - (p0 + 3 p2)) and p2 (3 - ...).
  const double s = p0 * 1 + p2 * 3;
  check_values(x.grad(), {0, 0, 0, p0 * (1 - s), 0, p2 * (3 - s)}, 1e-14);

  tg::Tensor x2 = leaf_of({1, 2, 3, 0.5, 0.1, 0.2}, {2, 3});
  const tg::Tensor ls = tg::log_softmax(tg::masked_fill(x2, m, -INFINITY), 1);
  CHECK(std::isnan(ls.at({0, 1})));
  CHECK(ls.at({1, 1}) == -INFINITY);
  CHECK(ls.at({1, 0}) == doctest::Approx(std::log(p0)).epsilon(1e-15));
  (tg::masked_fill(ls, m, 0) * g).sum().backward();
  // gx = g - softmax * sum(g) over the unmasked logits (sum(g) = 1 + 3 in row 1).
  check_values(x2.grad(), {0, 0, 0, 1 - p0 * 4, 0, 3 - p2 * 4}, 1e-14);
}

TEST_CASE("softplus/elu/gelu/silu/hardtanh/relu6: values") {
  const std::vector<double> v{-3, -0.5, 0, 0.7, 2};
  tg::Tensor x = tg::from_vector(v, {5}, {.dtype = tg::kFloat64});
  auto each = [&](auto f) {
    std::vector<double> r;
    for (double e : v) r.push_back(f(e));
    return r;
  };
  check_values(tg::softplus(x), each([](double e) { return std::log1p(std::exp(e)); }));
  check_values(tg::softplus(x, 2), each([](double e) { return std::log1p(std::exp(2 * e)) / 2; }));
  // Past the threshold (beta x > threshold) softplus is x itself.
  check_values(tg::softplus(x, 1, 0.5),
               {std::log1p(std::exp(-3.0)), std::log1p(std::exp(-0.5)), std::log(2.0), 0.7, 2});
  check_values(tg::elu(x, 0.5), each([](double e) { return e > 0 ? e : 0.5 * std::expm1(e); }));
  check_values(tg::gelu(x),
               each([](double e) { return e * 0.5 * (1 + std::erf(e / std::sqrt(2.0))); }));
  check_values(tg::gelu(x, tg::GeluApproximate::Tanh), each([](double e) {
                 return 0.5 * e * (1 + std::tanh(std::sqrt(2 / M_PI) * (e + 0.044715 * e * e * e)));
               }));
  check_values(tg::silu(x), each([](double e) { return e / (1 + std::exp(-e)); }));
  check_values(tg::hardtanh(x), {-1, -0.5, 0, 0.7, 1});
  check_values(tg::hardtanh(x, -0.5, 0.5), {-0.5, -0.5, 0, 0.5, 0.5});
  check_values(tg::relu6(tg::tensor({-1, 3, 7})), {0, 3, 6});
  // Large inputs stay finite: softplus passes x through, silu and gelu tend to x and 0.
  check_values(tg::softplus(tg::tensor({1000, -1000})), {1000, 0});
  check_values(tg::silu(tg::tensor({1000, -1000}, {}, {.dtype = tg::kFloat64})), {1000, 0});
  check_values(tg::gelu(tg::tensor({1000, -1000}, {}, {.dtype = tg::kFloat64})), {1000, 0});
}

TEST_CASE("gelu tanh: float32's values and gradient agree with float64's") {
  // Both are computed through sigmoid(2u), not 1 + tanh u and 1 - tanh^2 u, which lose digits
  // as tanh nears -1 or 1 (torch 1.13's float32 gradient is 1e-6 off float64 at x = -5.07 on
  // this grid): float32 stays within 2e-7 of float64 over the steep middle and the flat tails.
  std::vector<double> v;
  for (int k = -600; k <= 600; ++k) v.push_back(k / 50.0 + 0.013);
  auto run = [&](tg::Dtype d) {
    tg::Tensor x = tg::from_vector(v).to(d);
    x.requires_grad_();
    tg::Tensor y = tg::gelu(x, tg::GeluApproximate::Tanh);
    y.sum().backward();
    return std::pair{y.to_vector<double>(), x.grad().to_vector<double>()};
  };
  const auto r32 = run(tg::kFloat32), r64 = run(tg::kFloat64);
  const std::vector<double>& y32 = r32.first;
  const std::vector<double>& g32 = r32.second;
  const std::vector<double>& y64 = r64.first;
  const std::vector<double>& g64 = r64.second;
  for (std::size_t k = 0; k < v.size(); ++k) {
    CAPTURE(v[k]);
    CHECK(std::abs(y32[k] - y64[k]) <= 2e-6 * std::abs(y64[k]) + 2e-7);
    CHECK(std::abs(g32[k] - g64[k]) <= 2e-6 * std::abs(g64[k]) + 2e-7);
  }
}

TEST_CASE("gelu tanh: far tails, infinities and NaN as torch's") {
  // torch 1.13: y and dy/dx of gelu(x, approximate='tanh') in float32 and float64 (printed with
  // python3-torch). At -12 in float64 torch's tanh is exactly -1 and its y and dy/dx exactly -0
  // and 0; ours keep their true size there (about -2e-61 and -8e-60), hence the 1e-50.
  const double inf = std::numeric_limits<double>::infinity(), nan = std::nan("");
  const std::vector<double> x = {-100, -40, -12, 0, 12, 40, -inf, inf, nan};
  const std::vector<double> y = {-0.0, -0.0, -0.0, 0, 12, 40, nan, inf, nan};
  const std::vector<double> dy = {0, 0, 0, 0.5, 1, 1, nan, nan, nan};
  for (const tg::Dtype d : {tg::kFloat32, tg::kFloat64}) {
    CAPTURE(tg::dtype_name(d));
    tg::Tensor t = tg::from_vector(x).to(d);
    t.requires_grad_();
    tg::Tensor out = tg::gelu(t, tg::GeluApproximate::Tanh);
    out.sum().backward();
    const auto yv = out.to_vector<double>(), gv = t.grad().to_vector<double>();
    for (std::size_t k = 0; k < x.size(); ++k) {
      CAPTURE(x[k]);
      const auto same = [](double got, double want) {
        if (std::isnan(want)) return std::isnan(got);
        if (std::isinf(want)) return got == want;
        return std::abs(got - want) <= 1e-50 && std::signbit(got) == std::signbit(want);
      };
      CHECK(same(yv[k], y[k]));
      CHECK((std::isnan(dy[k]) ? std::isnan(gv[k]) : std::abs(gv[k] - dy[k]) <= 1e-50));
    }
  }
}

TEST_CASE("softplus/elu/gelu/silu/hardtanh: gradient matches finite differences") {
  tg::Tensor x = leaf({3, 5});
  check_gradient([&] { return tg::softplus(x); }, {x});
  check_gradient([&] { return tg::softplus(x, 3, 1.2); }, {x});
  check_gradient([&] { return tg::elu(x); }, {x});
  check_gradient([&] { return tg::elu(x, 0.3); }, {x});
  check_gradient([&] { return tg::gelu(x); }, {x});
  check_gradient([&] { return tg::gelu(x, tg::GeluApproximate::Tanh); }, {x});
  check_gradient([&] { return tg::silu(x); }, {x});
  check_gradient([&] { return tg::hardtanh(x, -0.6, 0.8); }, {x});
  check_gradient([&] { return tg::relu6(x * 4); }, {x});
}

TEST_CASE("elu/hardtanh/softplus: gradients at the kinks follow torch") {
  tg::Tensor x = leaf_of({0.0, -1.0, 1.0, 6.0});
  tg::elu(x, 0.5).sum().backward();  // x = 0 takes the exponential side: alpha e^0
  check_values(x.grad(), {0.5, 0.5 * std::exp(-1.0), 1, 1});
  x.zero_grad();
  tg::hardtanh(x).sum().backward();  // 0 at both bounds, unlike clamp
  check_values(x.grad(), {1, 0, 0, 0});
  x.zero_grad();
  tg::relu6(x).sum().backward();
  check_values(x.grad(), {0, 0, 1, 0});
  x.zero_grad();
  tg::softplus(x, 1, 1).sum().backward();  // beta x == threshold is below it: z / (z + 1)
  check_values(x.grad(), {0.5, 1 / (1 + std::exp(1.0)), 1 / (1 + std::exp(-1.0)), 1});
}

TEST_CASE("softplus/elu/gelu/silu/hardtanh: float32 agrees with float64") {
  const tg::Tensor x64 = tg::randn({4, 7}, {.dtype = tg::kFloat64}) * 3;
  const tg::Tensor x32 = x64.to(tg::kFloat32);
  const std::vector<std::function<tg::Tensor(const tg::Tensor&)>> ops = {
      [](const tg::Tensor& t) { return tg::softplus(t, 2); },
      [](const tg::Tensor& t) { return tg::elu(t); },
      [](const tg::Tensor& t) { return tg::gelu(t); },
      [](const tg::Tensor& t) { return tg::gelu(t, tg::GeluApproximate::Tanh); },
      [](const tg::Tensor& t) { return tg::silu(t); },
      [](const tg::Tensor& t) { return tg::hardtanh(t); }};
  for (const auto& op : ops) check_values(op(x32), op(x64).to_vector<double>(), 1e-6);
}

TEST_CASE("softplus/elu/hardtanh: bad options are named") {
  CHECK_THROWS_WITH_AS(tg::softplus(tg::zeros({2}), 0), doctest::Contains("softplus: beta must be"),
                       tg::ValueError);
  CHECK_THROWS_AS(tg::softplus(tg::zeros({2}), 1, NAN), tg::ValueError);
  CHECK_THROWS_WITH_AS(tg::elu(tg::zeros({2}), INFINITY),
                       doctest::Contains("elu: alpha must be finite"), tg::ValueError);
  CHECK_THROWS_WITH_AS(tg::hardtanh(tg::zeros({2}), 1, -1),
                       doctest::Contains("hardtanh: min_val must be <= max_val: got 1 and -1"),
                       tg::ValueError);
}
