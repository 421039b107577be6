// A physics-informed network: u'' = -pi^2 sin(pi x) on [0, 1] with u(0) = u(1) = 0, whose
// solution is sin(pi x). The network u(x) is trained on the equation itself: its loss holds
// u'' taken from the network by two create_graph gradients with respect to its input, so
// training differentiates through second derivatives. Adam first, then L-BFGS, as PINNs are
// usually trained; prints the largest error against the exact solution and the training time.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <numbers>
#include <tapegrad/tapegrad.hpp>

namespace tg = tapegrad;
namespace nn = tg::nn;
namespace optim = tg::optim;

namespace {
constexpr double kPi = std::numbers::pi;

// n points evenly spread over [lo, hi], as an (n, 1) column.
tg::Tensor column(std::int64_t n, double lo, double hi) {
  std::vector<double> v;
  for (std::int64_t i = 0; i < n; ++i)
    v.push_back(lo + (hi - lo) * static_cast<double>(i) / static_cast<double>(n - 1));
  return tg::from_vector(v, {n, 1});
}

// The equation's residual u'' + pi^2 sin(pi x) at x, and the boundary values, as one loss.
tg::Tensor pinn_loss(nn::Module& u, const tg::Tensor& x, const tg::Tensor& ends) {
  const tg::Tensor y = u(x);
  const tg::Tensor du = tg::grad({y.sum()}, {x}, {}, {.create_graph = true})[0];
  const tg::Tensor d2u = tg::grad({du.sum()}, {x}, {}, {.create_graph = true})[0];
  const tg::Tensor residual = d2u + kPi * kPi * tg::sin(x * kPi);
  return tg::mean(tg::square(residual)) + tg::mean(tg::square(u(ends)));
}
}  // namespace

int main(int argc, char** argv) {
  const std::int64_t adam_steps = argc > 1 ? std::atoll(argv[1]) : 2000;
  const std::int64_t lbfgs_steps = argc > 2 ? std::atoll(argv[2]) : 20;
  tg::manual_seed(0);
  nn::Sequential u(nn::Linear(1, 32), nn::Tanh(), nn::Linear(32, 32), nn::Tanh(),
                   nn::Linear(32, 1));
  u.to(tg::kFloat64);
  const tg::Tensor x = column(64, 0, 1).requires_grad_(true);  // collocation points
  const tg::Tensor ends = column(2, 0, 1);

  const auto t0 = std::chrono::steady_clock::now();
  optim::Adam adam(u.parameters(), {.lr = 1e-3});
  for (std::int64_t step = 0; step < adam_steps; ++step) {
    adam.zero_grad();
    const tg::Tensor loss = pinn_loss(u, x, ends);
    loss.backward();
    adam.step();
    if ((step + 1) % 500 == 0)
      std::printf("adam  step %5lld  loss %.3e\n", static_cast<long long>(step + 1), loss.item());
  }
  optim::LBFGS lbfgs(u.parameters(),
                     {.max_iter = 20, .line_search = optim::LBFGSOptions::LineSearch::StrongWolfe});
  for (std::int64_t step = 0; step < lbfgs_steps; ++step) {
    const tg::Tensor loss = lbfgs.step([&] {
      lbfgs.zero_grad();
      tg::Tensor l = pinn_loss(u, x, ends);
      l.backward();
      return l;
    });
    if ((step + 1) % 10 == 0)
      std::printf("lbfgs step %5lld  loss %.3e\n", static_cast<long long>(step + 1), loss.item());
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  // The largest error on a fine grid, against sin(pi x).
  const tg::Tensor grid = column(1001, 0, 1);
  tg::Tensor pred;
  {
    tg::NoGradGuard no_grad;
    pred = u(grid);
  }
  double worst = 0;
  const std::vector<double> g = grid.to_vector<double>(), p = pred.to_vector<double>();
  for (std::size_t i = 0; i < g.size(); ++i)
    worst = std::max(worst, std::abs(p[i] - std::sin(kPi * g[i])));
  std::printf("max |u - sin(pi x)| on 1001 points: %.2e (target 1e-3)\n", worst);
  std::printf("training: %lld Adam steps and %lld L-BFGS steps in %.2f s\n",
              static_cast<long long>(adam_steps), static_cast<long long>(lbfgs_steps), seconds);
  return worst <= 1e-3 ? 0 : 1;
}
