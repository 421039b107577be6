// Fits y = 2x + 1 by gradient descent through the installed library; exits 1 if it fails.
#include <cmath>
#include <iostream>
#include <tapegrad/tapegrad.hpp>
namespace tg = tapegrad;

int main() {
  tg::Tensor x = tg::arange(0.0, 1.0, 0.1).reshape({-1, 1});
  tg::Tensor y = x * 2.0 + 1.0;
  tg::Tensor w = tg::zeros({1, 1}, {.requires_grad = true});
  tg::Tensor b = tg::zeros({1}, {.requires_grad = true});
  for (int step = 0; step < 2000; ++step) {
    tg::Tensor loss = tg::pow(tg::matmul(x, w) + b - y, 2).mean();
    loss.backward();
    tg::NoGradGuard no_grad;
    w.add_(w.grad(), -0.5);
    b.add_(b.grad(), -0.5);
    w.zero_grad();
    b.zero_grad();
  }
  std::cout << "consumer: w = " << w.item() << ", b = " << b.item() << "\n";
  return std::abs(w.item() - 2) < 1e-3 && std::abs(b.item() - 1) < 1e-3 ? 0 : 1;
}
