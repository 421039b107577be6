// Convergence: a convex quadratic for every optimizer, Rosenbrock for Momentum and Adam, XOR
// for each.
#include <cmath>
#include <memory>

#include "../core/helpers.h"

namespace optim = tg::optim;
namespace nn = tg::nn;

namespace {
using Factory = std::function<std::unique_ptr<optim::Optimizer>(const std::vector<tg::Tensor>&)>;
std::vector<std::pair<const char*, Factory>> all_optimizers(double scale) {
  return {
      {"sgd",
       [=](auto& p) {
         return std::make_unique<optim::SGD>(p, optim::SGDOptions{.lr = 0.1 * scale});
       }},
      {"momentum",
       [=](auto& p) {
         return std::make_unique<optim::SGD>(
             p, optim::SGDOptions{.lr = 0.05 * scale, .momentum = 0.9});
       }},
      {"nesterov",
       [=](auto& p) {
         return std::make_unique<optim::SGD>(
             p, optim::SGDOptions{.lr = 0.05 * scale, .momentum = 0.9, .nesterov = true});
       }},
      {"adagrad",
       [=](auto& p) {
         return std::make_unique<optim::Adagrad>(p, optim::AdagradOptions{.lr = 0.5 * scale});
       }},
      {"rmsprop",
       [=](auto& p) {
         return std::make_unique<optim::RMSprop>(p, optim::RMSpropOptions{.lr = 0.01 * scale});
       }},
      {"adam",
       [=](auto& p) {
         return std::make_unique<optim::Adam>(p, optim::AdamOptions{.lr = 0.05 * scale});
       }},
      {"amsgrad",
       [=](auto& p) {
         return std::make_unique<optim::Adam>(
             p, optim::AdamOptions{.lr = 0.05 * scale, .amsgrad = true});
       }},
      {"adamw",
       [=](auto& p) {
         return std::make_unique<optim::AdamW>(
             p, optim::AdamWOptions{.lr = 0.05 * scale, .weight_decay = 0});
       }},
      {"adamax",
       [=](auto& p) {
         return std::make_unique<optim::Adamax>(p, optim::AdamaxOptions{.lr = 0.05 * scale});
       }},
      {"adadelta",
       [=](auto& p) {
         return std::make_unique<optim::Adadelta>(p, optim::AdadeltaOptions{.lr = 10 * scale});
       }},
      {"nadam",
       [=](auto& p) {
         return std::make_unique<optim::NAdam>(p, optim::NAdamOptions{.lr = 0.05 * scale});
       }},
      {"radam",
       [=](auto& p) {
         return std::make_unique<optim::RAdam>(p, optim::RAdamOptions{.lr = 0.05 * scale});
       }},
      {"rprop",
       [=](auto& p) {
         return std::make_unique<optim::Rprop>(p, optim::RpropOptions{.lr = 0.01 * scale});
       }},
      {"asgd",
       [=](auto& p) {
         return std::make_unique<optim::ASGD>(p, optim::ASGDOptions{.lr = 0.1 * scale});
       }},
  };
}
}  // namespace

TEST_CASE("convergence: plain gradient descent on theta^2 is theta_0 times 0.98^k") {
  // f = theta^2, f' = 2 theta: theta_k+1 = theta_k - 0.01 (2 theta_k) = 0.98 theta_k, the
  // textbook geometric decay, to float64 rounding for 500 steps.
  tg::Tensor theta = tg::tensor({3.0}, {}, {.dtype = tg::kFloat64, .requires_grad = true});
  optim::SGD opt({theta}, {.lr = 0.01});
  for (int k = 1; k <= 500; ++k) {
    opt.zero_grad();
    tg::square(theta).sum().backward();
    opt.step();
    const double want = 3.0 * std::pow(0.98, k);
    INFO("step " << k);
    CHECK(std::abs(theta.item() - want) <= 1e-13 * want);
  }
}

TEST_CASE("convergence: every optimizer takes a convex quadratic near its minimum") {
  // f(w) = sum_i a_i (w_i - c_i)^2 with condition number 10.
  const tg::Tensor a = tg::tensor({1, 2, 5, 10}, {}, {.dtype = tg::kFloat64});
  const tg::Tensor c = tg::tensor({1, -2, 0.5, 3}, {}, {.dtype = tg::kFloat64});
  for (auto& entry : all_optimizers(0.5)) {
    const auto& name = entry.first;
    auto& make = entry.second;
    INFO(name);
    tg::Tensor w = tg::zeros({4}, {.dtype = tg::kFloat64, .requires_grad = true});
    auto opt = make({w});
    for (int i = 0; i < 2000; ++i) {
      opt->zero_grad();
      (a * tg::pow(w - c, 2)).sum().backward();
      opt->step();
    }
    CHECK(tg::abs(w - c).max().item() < 1e-2);
  }
}

TEST_CASE("convergence: momentum and Adam solve Rosenbrock") {
  // f(x, y) = (1 - x)^2 + 100 (y - x^2)^2, minimum at (1, 1), started at (-1.5, 2).
  auto run = [](auto&& make, int steps) {
    tg::Tensor x = leaf_of({-1.5}), y = leaf_of({2.0});
    auto opt = make(std::vector<tg::Tensor>{x, y});
    for (int i = 0; i < steps; ++i) {
      opt->zero_grad();
      (tg::pow(1.0 - x, 2) + 100.0 * tg::pow(y - x * x, 2)).sum().backward();
      opt->step();
    }
    return std::pair{x.item(), y.item()};
  };
  auto [mx, my] = run(
      [](auto p) {
        return std::make_unique<optim::SGD>(p, optim::SGDOptions{.lr = 2e-4, .momentum = 0.9});
      },
      20000);
  CHECK(std::abs(mx - 1) < 1e-2);
  CHECK(std::abs(my - 1) < 2e-2);
  auto [ax, ay] =
      run([](auto p) { return std::make_unique<optim::Adam>(p, optim::AdamOptions{.lr = 0.02}); },
          10000);
  CHECK(std::abs(ax - 1) < 1e-2);
  CHECK(std::abs(ay - 1) < 2e-2);
}

TEST_CASE("convergence: XOR trains with every optimizer") {
  const tg::Tensor x = tg::tensor({0, 0, 0, 1, 1, 0, 1, 1}, {4, 2});
  const tg::Tensor y = tg::tensor({0, 1, 1, 0}, {4, 1});
  for (auto& entry : all_optimizers(1.0)) {
    const auto& name = entry.first;
    auto& make = entry.second;
    INFO(name);
    tg::Generator gen(3);
    nn::Sequential net(nn::Linear(2, 8, true, &gen), nn::Tanh(), nn::Linear(8, 1, true, &gen));
    auto opt = make(net.parameters());
    double loss = 0;
    for (int i = 0; i < 1500; ++i) {
      tg::Tensor l = nn::functional::mse_loss(net(x), y);
      opt->zero_grad();
      l.backward();
      opt->step();
      loss = l.item();
    }
    CHECK(loss < 0.02);
  }
}
