// Fits y = 2x + 1 through the installed library with a Linear layer, saves and reloads it (in
// tapegrad's format and in torch.save's), then fits it again with train::fit and checks it with
// train::evaluate; exits 1 if anything is off.
#include <cmath>
#include <cstdio>
#include <iostream>
#include <tapegrad/tapegrad.hpp>
namespace tg = tapegrad;

int main() {
  tg::Tensor x = tg::arange(0.0, 1.0, 0.1).reshape({-1, 1});
  tg::Tensor y = x * 2.0 + 1.0;
  tg::nn::Linear fit(1, 1);
  for (int step = 0; step < 2000; ++step) {
    tg::Tensor loss = tg::nn::functional::mse_loss(fit(x), y);
    fit.zero_grad();
    loss.backward();
    tg::NoGradGuard no_grad;
    for (const tg::Tensor& p : fit.parameters()) p.add_(p.grad(), -0.5);
  }
  const double w = fit.weight().item(), b = fit.bias().item();
  std::cout << "consumer: w = " << w << ", b = " << b << "\n";
  fit.save("consumer.tg");
  tg::nn::Linear back(1, 1);
  back.load("consumer.tg");
  std::remove("consumer.tg");
  // PyTorch's format, through the zip library the installed package links.
  tg::io::save_torch(fit.state_dict(), "consumer.pt");
  tg::nn::Linear from_torch(1, 1);
  from_torch.load_state_dict(tg::io::load_torch("consumer.pt"));
  std::remove("consumer.pt");
  const bool ok = std::abs(w - 2) < 1e-3 && std::abs(b - 1) < 1e-3 && back.weight().item() == w &&
                  from_torch.bias().item() == b;

  tg::data::TensorDataset ds(x, y);
  tg::data::DataLoader loader(ds, {.batch_size = 10});
  tg::nn::Linear again(1, 1);
  tg::optim::SGD opt(again.parameters(), {.lr = 0.5});
  tg::train::fit(again, opt, loader, {.epochs = 2000, .verbose = false});
  const auto e = tg::train::evaluate(again, loader, {.metrics = {tg::train::Metric::MSE}});
  std::cout << "consumer: train::fit reached mse " << *e.mse << "\n";
  return ok && *e.mse < 1e-8 ? 0 : 1;
}
