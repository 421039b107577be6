// The classic first experiment: 100 points x = 2 U(0, 1), y = 4 + 3x + N(0, 1), fitted by batch
// gradient descent, beside the closed-form least-squares solution (they must agree to 1e-3).
#include <cmath>
#include <cstdio>
#include <tapegrad/tapegrad.hpp>

namespace tg = tapegrad;
namespace nn = tg::nn;

int main() {
  tg::manual_seed(42);
  const tg::Tensor x = tg::rand({100, 1}, {.dtype = tg::kFloat64}) * 2.0;
  const tg::Tensor y = 4.0 + 3.0 * x + tg::randn({100, 1}, {.dtype = tg::kFloat64});

  // Closed form: w = cov(x, y) / var(x), b = mean(y) - w mean(x).
  const double mx = x.mean().item(), my = y.mean().item();
  const double w_ls = ((x - mx) * (y - my)).sum().item() / ((x - mx) * (x - mx)).sum().item();
  const double b_ls = my - w_ls * mx;

  nn::Linear model(1, 1);
  model.to(tg::kFloat64);
  tg::optim::SGD opt(model.parameters(), {.lr = 0.1});  // the whole set each step: batch GD
  std::printf("epoch   mse\n");
  for (int epoch = 1; epoch <= 2000; ++epoch) {
    tg::Tensor loss = nn::functional::mse_loss(model(x), y);
    opt.zero_grad();
    loss.backward();
    opt.step();
    if (epoch == 1 || epoch % 250 == 0) std::printf("%5d   %.6f\n", epoch, loss.item());
  }
  const double w = model.weight().item(), b = model.bias().item();
  std::printf("gradient descent: w = %.6f  b = %.6f\n", w, b);
  std::printf("least squares:    w = %.6f  b = %.6f\n", w_ls, b_ls);
  const bool agree = std::abs(w - w_ls) < 1e-3 && std::abs(b - b_ls) < 1e-3;
  std::printf("%s (true line: w = 3, b = 4)\n", agree ? "they agree to 1e-3" : "they DISAGREE");
  return agree ? 0 : 1;
}
