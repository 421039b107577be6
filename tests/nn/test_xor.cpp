// The smallest network that needs a hidden layer learns XOR with plain gradient updates.
#include "../core/helpers.h"

namespace nn = tg::nn;

TEST_CASE("xor: Linear-Tanh-Linear with MSE reaches near-zero loss in a few hundred steps") {
  tg::Generator gen(0);
  nn::Sequential net(nn::Linear(2, 8, true, &gen), nn::Tanh(), nn::Linear(8, 1, true, &gen));
  const tg::Tensor x = tg::tensor({0, 0, 0, 1, 1, 0, 1, 1}, {4, 2});
  const tg::Tensor y = tg::tensor({0, 1, 1, 0}, {4, 1});
  nn::MSELoss mse;
  double loss = 0;
  for (int step = 0; step < 500; ++step) {
    tg::Tensor l = mse(net(x), y);
    net.zero_grad();
    l.backward();
    loss = l.item();
    tg::NoGradGuard no_grad;
    for (tg::Tensor& p : net.parameters())
      p.add_(p.grad(), -0.2);  // lr 0.5 diverges: the output layer's curvature is ~2|h|^2
  }
  CHECK(loss < 1e-3);
  tg::NoGradGuard no_grad;
  const auto out = net(x).to_vector<float>();
  CHECK(out[0] < 0.1);
  CHECK(out[1] > 0.9);
  CHECK(out[2] > 0.9);
  CHECK(out[3] < 0.1);
}
