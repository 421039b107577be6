// pow, exp, log, sqrt, abs, clamp.
#include "helpers.h"

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
  CHECK_THROWS_WITH_AS(tg::clamp(tg::zeros({2}), 1, 0),
                       doctest::Contains("clamp: lo must be <= hi"), tg::ValueError);
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
      {"sigmoid", [&] { return tg::sigmoid(i); }},
      {"tanh", [&] { return tg::tanh(i); }},
      {"relu", [&] { return tg::relu(i); }},
      {"leaky_relu", [&] { return tg::leaky_relu(i); }},
      {"softmax", [&] { return tg::softmax(i, 1); }},
      {"log_softmax", [&] { return tg::log_softmax(i, 1); }},
      {"matmul", [&] { return tg::matmul(i, i); }},
      {"mean", [&] { return tg::mean(i, 0); }}};
  for (const auto& [name, op] : ops) {
    INFO(name);
    CHECK_THROWS_WITH_AS(
        op(), doctest::Contains((std::string(name) + ": needs a floating-point tensor").c_str()),
        tg::ValueError);
  }
}
