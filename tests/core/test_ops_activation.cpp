// sigmoid, tanh, relu, leaky_relu, softmax, log_softmax.
#include "helpers.h"

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
