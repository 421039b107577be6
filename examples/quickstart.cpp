// The README's ten-line training script, exactly: Fashion-MNIST, a one-hidden-layer MLP, Adam.
#include <tapegrad/tapegrad.hpp>
namespace tg = tapegrad;

int main() {
  tg::manual_seed(42);
  auto train = tg::data::MNIST("data/fashion-mnist", tg::data::Split::Train);
  tg::data::DataLoader loader(train, {.batch_size = 64, .shuffle = true});

  tg::nn::Sequential model(tg::nn::Linear(784, 128), tg::nn::Sigmoid(), tg::nn::Linear(128, 10));
  tg::optim::Adam opt(model.parameters(), {.lr = 1e-3});

  for (int epoch = 0; epoch < 5; ++epoch)
    for (auto& [x, y] : loader) {
      auto loss = tg::nn::functional::cross_entropy(model(x), y);
      opt.zero_grad();
      loss.backward();
      opt.step();
    }
  model.save("mlp.tg");
}
