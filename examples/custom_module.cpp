// A custom module in ten lines: fits y = sin(x) on [-pi, pi] with plain gradient descent, saves
// a checkpoint, and loads it into a fresh model that then predicts exactly the same.
#include <cmath>
#include <cstdio>
#include <numbers>
#include <tapegrad/tapegrad.hpp>

namespace tg = tapegrad;
namespace nn = tg::nn;

struct SineNet : nn::Module {
  std::shared_ptr<nn::Linear> fc1 = register_module("fc1", nn::Linear(1, 32));
  std::shared_ptr<nn::Linear> fc2 = register_module("fc2", nn::Linear(32, 32));
  std::shared_ptr<nn::Linear> out = register_module("out", nn::Linear(32, 1));
  tg::Tensor forward(const tg::Tensor& x) override {
    return (*out)(tg::tanh((*fc2)(tg::tanh((*fc1)(x)))));
  }
};

int main() {
  tg::manual_seed(1);
  const tg::Tensor x = tg::arange(-std::numbers::pi, std::numbers::pi, 0.05).reshape({-1, 1});
  tg::Tensor target = tg::empty(x.shape());
  for (std::int64_t i = 0; i < x.size(0); ++i) target.set({i, 0}, std::sin(x.at({i, 0})));

  SineNet net;
  std::printf("%lld parameters\n", static_cast<long long>(net.num_parameters()));
  for (int step = 1; step <= 3000; ++step) {
    tg::Tensor loss = nn::functional::mse_loss(net(x), target);
    net.zero_grad();
    loss.backward();
    tg::NoGradGuard no_grad;
    for (const tg::Tensor& p : net.parameters()) p.add_(p.grad(), -0.1);
    if (step % 500 == 0) std::printf("step %4d  mse %.6f\n", step, loss.item());
  }

  net.save("sine.tg");
  SineNet restored;
  restored.load("sine.tg");
  tg::NoGradGuard no_grad;
  const bool same = tg::eq(net(x), restored(x)).min().item() == 1;
  std::printf("saved sine.tg; the restored model predicts %s\n",
              same ? "identically" : "DIFFERENTLY");
  return same ? 0 : 1;
}
