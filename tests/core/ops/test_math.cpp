// pow, exp, log, sqrt, abs, square, rsqrt, sin, cos, clamp (either bound optional).
#include "../helpers.h"

TEST_CASE("pow/exp/log/sqrt/abs/clamp: values") {
  tg::Tensor x = tg::tensor({1, 4, 9}, {}, {.dtype = tg::kFloat64});
  check_values(tg::pow(x, 2), {1, 16, 81});
  check_values(tg::pow(x, 0.5), {1, 2, 3});
  check_values(tg::pow(x, -1), {1, 0.25, 1.0 / 9});
  check_values(tg::pow(x, 1.5), {1, 8, 27});
  check_values(tg::exp(tg::tensor({0, 1}, {}, {.dtype = tg::kFloat64})), {1, std::exp(1.0)});
  check_values(tg::log(x), {0, std::log(4.0), std::log(9.0)});
  check_values(tg::sqrt(x), {1, 2, 3});
  check_values(tg::abs(tg::tensor({-2, 0, 3})), {2, 0, 3});
  check_values(tg::clamp(tg::tensor({-2, 0.5, 3}), 0, 1), {0, 0.5, 1});
}

TEST_CASE("pow: gradient matches finite differences") {
  tg::Tensor x = tg::abs(leaf({3, 4})).detach() + 0.5;
  x.requires_grad_();
  for (double p : {2.0, 0.5, -1.0, 3.0, 1.7}) {
    INFO("p = " << p);
    check_gradient([&] { return tg::pow(x, p); }, {x});
  }
}

TEST_CASE("exp/log/sqrt: gradient matches finite differences") {
  tg::Tensor x = leaf({3, 4});
  tg::Tensor pos = tg::abs(leaf({3, 4}, 8)).detach() + 0.2;
  pos.requires_grad_();
  check_gradient([&] { return tg::exp(x); }, {x});
  check_gradient([&] { return tg::log(pos); }, {pos});
  check_gradient([&] { return tg::sqrt(pos); }, {pos});
}

TEST_CASE("abs/clamp: gradient matches finite differences away from the kinks") {
  tg::Tensor x = leaf_of({-1.5, -0.3, 0.4, 2.0, -0.8, 0.9}, {2, 3});
  check_gradient([&] { return tg::abs(x); }, {x});
  check_gradient([&] { return tg::clamp(x, -0.5, 1.0); }, {x});
}

TEST_CASE("abs/clamp: subgradients follow PyTorch at the kinks") {
  tg::Tensor x = leaf_of({0.0, -1.0, 1.0});
  tg::abs(x).sum().backward();
  check_values(x.grad(), {0, -1, 1});
  x.zero_grad();
  tg::clamp(x, -1, 0.5).sum().backward();  // ends are inclusive
  check_values(x.grad(), {1, 1, 0});
}

TEST_CASE("pow/exp/clamp: bad arguments are named") {
  CHECK_THROWS_WITH_AS(tg::clamp(tg::zeros({2}), std::nullopt, std::nullopt),
                       doctest::Contains("clamp: at least one of lo and hi must be given"),
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(tg::clamp(tg::zeros({2}), NAN, 1),
                       doctest::Contains("clamp: a bound is NaN"), tg::ValueError);
  CHECK_THROWS_AS(tg::clamp_max(tg::zeros({2}), NAN), tg::ValueError);
  CHECK_THROWS_WITH_AS(tg::exp(tg::zeros({2}, {.dtype = tg::kInt64})),
                       doctest::Contains("exp: needs a floating-point tensor: got int64"),
                       tg::ValueError);
  CHECK_THROWS_AS(tg::pow(tg::zeros({2}), INFINITY), tg::ValueError);
}

TEST_CASE("floating-point ops: each names itself when given int64") {
  const tg::Tensor i = tg::zeros({2, 2}, {.dtype = tg::kInt64});
  const std::vector<std::pair<const char*, std::function<tg::Tensor()>>> ops = {
      {"pow", [&] { return tg::pow(i, 3); }},
      {"exp", [&] { return tg::exp(i); }},
      {"log", [&] { return tg::log(i); }},
      {"sqrt", [&] { return tg::sqrt(i); }},
      {"abs", [&] { return tg::abs(i); }},
      {"clamp", [&] { return tg::clamp(i, 0, 1); }},
      {"rsqrt", [&] { return tg::rsqrt(i); }},
      {"sin", [&] { return tg::sin(i); }},
      {"cos", [&] { return tg::cos(i); }},
      {"softplus", [&] { return tg::softplus(i); }},
      {"elu", [&] { return tg::elu(i); }},
      {"gelu", [&] { return tg::gelu(i); }},
      {"silu", [&] { return tg::silu(i); }},
      {"hardtanh", [&] { return tg::hardtanh(i); }},
      {"sigmoid", [&] { return tg::sigmoid(i); }},
      {"tanh", [&] { return tg::tanh(i); }},
      {"relu", [&] { return tg::relu(i); }},
      {"leaky_relu", [&] { return tg::leaky_relu(i); }},
      {"softmax", [&] { return tg::softmax(i, 1); }},
      {"log_softmax", [&] { return tg::log_softmax(i, 1); }},
      {"matmul", [&] { return tg::matmul(i, i); }},
      {"mean", [&] { return tg::mean(i, 0); }}};
  for (const auto& entry : ops) {
    const auto& name = entry.first;
    const auto& op = entry.second;
    INFO(name);
    CHECK_THROWS_WITH_AS(
        op(), doctest::Contains((std::string(name) + ": needs a floating-point tensor").c_str()),
        tg::ValueError);
  }
}

TEST_CASE("square/rsqrt/sin/cos: values") {
  tg::Tensor x = tg::tensor({0.25, 1, 4}, {}, {.dtype = tg::kFloat64});
  check_values(tg::square(x), {0.0625, 1, 16});
  check_values(tg::rsqrt(x), {2, 1, 0.5});
  check_values(tg::sin(x), {std::sin(0.25), std::sin(1.0), std::sin(4.0)});
  check_values(tg::cos(x), {std::cos(0.25), std::cos(1.0), std::cos(4.0)});
  const tg::Tensor i = tg::tensor({-3, 2}, {}, {.dtype = tg::kInt64});
  CHECK(tg::square(i).dtype() == tg::kInt64);  // as torch: an integer square stays exact
  check_values(tg::square(i), {9, 4});
  check_values(tg::square(tg::tensor({1.5f})), {2.25});
}

TEST_CASE("square/rsqrt/sin/cos: gradient matches finite differences") {
  tg::Tensor x = leaf({3, 5});
  tg::Tensor pos = tg::abs(leaf({2, 3}, 9)).detach() + 0.3;
  pos.requires_grad_();
  check_gradient([&] { return tg::square(x); }, {x});
  check_gradient([&] { return tg::sin(x); }, {x});
  check_gradient([&] { return tg::cos(x); }, {x});
  check_gradient([&] { return tg::rsqrt(pos); }, {pos});
}

TEST_CASE("clamp: either bound alone, clamp_min and clamp_max") {
  tg::Tensor x = leaf_of({-2, -1, 0.5, 1, 3}, {5});
  check_values(tg::clamp(x, -1, std::nullopt), {-1, -1, 0.5, 1, 3});
  check_values(tg::clamp(x, std::nullopt, 1), {-2, -1, 0.5, 1, 1});
  check_values(tg::clamp_min(x, 0), {0, 0, 0.5, 1, 3});
  check_values(tg::clamp_max(x, 0), {-2, -1, 0, 0, 0});
  tg::clamp_min(x, -1).sum().backward();  // the bound itself passes, as torch's x >= lo
  check_values(x.grad(), {0, 1, 1, 1, 1});
  x.zero_grad();
  tg::clamp_max(x, 1).sum().backward();
  check_values(x.grad(), {1, 1, 1, 1, 0});
  tg::Tensor y = leaf({4, 3});
  check_gradient([&] { return tg::clamp_min(y, 0.1); }, {y});
  check_gradient([&] { return tg::clamp_max(y, -0.2); }, {y});
}

TEST_CASE("clamp: lo above hi gives hi everywhere and no gradient, as torch") {
  tg::Tensor x = leaf_of({-2, 0.5, 3});
  check_values(tg::clamp(x, 2, 1), {1, 1, 1});
  tg::clamp(x, 2, 1).sum().backward();
  check_values(x.grad(), {0, 0, 0});
}

TEST_CASE("clamp: NaN elements stay NaN and pass no gradient") {
  tg::Tensor x = leaf_of({NAN, 5, -5});
  const std::vector<double> y = tg::clamp(x, -1, 1).to_vector<double>();
  CHECK(std::isnan(y[0]));
  CHECK(y[1] == 1);
  CHECK(y[2] == -1);
  CHECK(std::isnan(tg::clamp_min(tg::tensor({NAN}), 0).item()));
  tg::clamp(x, -1, 1).sum().backward();
  check_values(x.grad(), {0, 0, 0});
}
