// XOR: the smallest problem a network without a hidden layer cannot solve.
#include <cstdio>
#include <tapegrad/tapegrad.hpp>

namespace tg = tapegrad;
namespace nn = tg::nn;

int main() {
  tg::manual_seed(0);
  const tg::Tensor x = tg::tensor({0, 0, 0, 1, 1, 0, 1, 1}, {4, 2});
  const tg::Tensor y = tg::tensor({0, 1, 1, 0}, {4, 1});
  nn::Sequential net(nn::Linear(2, 8), nn::Tanh(), nn::Linear(8, 1));
  tg::optim::SGD opt(net.parameters(), {.lr = 0.2, .momentum = 0.9});
  double loss = 0;
  for (int step = 1; step <= 500; ++step) {
    tg::Tensor l = nn::functional::mse_loss(net(x), y);
    opt.zero_grad();
    l.backward();
    opt.step();
    loss = l.item();
    if (step % 100 == 0) std::printf("step %3d  mse %.6f\n", step, loss);
  }
  tg::NoGradGuard no_grad;
  const tg::Tensor out = net(x);
  for (int i = 0; i < 4; ++i)
    std::printf("%g xor %g -> %.3f\n", x.at({i, 0}), x.at({i, 1}), out.at({i, 0}));
  return loss < 1e-3 ? 0 : 1;
}
