// A convolutional network on Fashion-MNIST (or the MNIST digits): PyTorch's own C++ MNIST
// example network by default, a wider one with batch normalisation with --model bn. The loop,
// checkpoints, resume, plots and --distributed are the MNIST examples' shared program
// (mnist_train.h), as in mnist_mlp.
//   mnist_cnn                    torch's network: SGD 0.01, momentum 0.5, batch 64, 10 epochs
//   mnist_cnn --model bn         conv-BN-ReLU blocks: Adam 1e-3, cosine schedule, batch 128,
//                                5 epochs (each overridden by its flag)
#include "mnist_train.h"

namespace nn = tapegrad::nn;

namespace {
// conv 1->10 k5, max-pool 2, relu, conv 10->20 k5, dropout2d, max-pool 2, relu, 320 -> 50,
// relu, dropout, 50 -> 10, log_softmax (with nll: cross-entropy on its logits).
std::shared_ptr<nn::Module> torch_net() {
  return std::make_shared<nn::Sequential>(
      nn::Unflatten(1, {1, 28, 28}), nn::Conv2d(1, 10, 5), nn::MaxPool2d({.kernel_size = 2}),
      nn::ReLU(), nn::Conv2d(10, 20, 5), nn::Dropout2d(0.5), nn::MaxPool2d({.kernel_size = 2}),
      nn::ReLU(), nn::Flatten(), nn::Linear(320, 50), nn::ReLU(), nn::Dropout(0.5),
      nn::Linear(50, 10), nn::LogSoftmax(1));
}

// Two conv-BN-ReLU-pool blocks (16 and 32 channels, 3x3, same padding), then 1568 -> 128 with
// BatchNorm1d and dropout, -> 10.
std::shared_ptr<nn::Module> bn_net() {
  return std::make_shared<nn::Sequential>(
      nn::Unflatten(1, {1, 28, 28}), nn::Conv2d(1, 16, 3, {.padding = 1}, false),
      nn::BatchNorm2d(16), nn::ReLU(), nn::MaxPool2d({.kernel_size = 2}),
      nn::Conv2d(16, 32, 3, {.padding = 1}, false), nn::BatchNorm2d(32), nn::ReLU(),
      nn::MaxPool2d({.kernel_size = 2}), nn::Flatten(), nn::Linear(32 * 7 * 7, 128, false),
      nn::BatchNorm1d(128), nn::ReLU(), nn::Dropout(0.3), nn::Linear(128, 10));
}
}  // namespace

int main(int argc, char** argv) {
  mnist::Config defaults;  // torch's network's; the bn network's replace those no flag set
  defaults.optimizer = "momentum";
  defaults.lr = 0.01;
  defaults.momentum = 0.5;
  defaults.batch = "64";
  defaults.epochs = 10;
  defaults.schedule = "none";
  defaults.save = "mnist_cnn-checkpoints";
  return mnist::train_mnist(
      argc, argv,
      {.name = "mnist_cnn",
       .description = "Train a convolutional network on Fashion-MNIST or the MNIST digits.",
       .defaults = defaults,
       .add_model_options =
           [](CLI::App& app, mnist::Config& c) {
             app.add_option("--model", c.model,
                            "torch: PyTorch's MNIST example network (SGD 0.01, momentum 0.5, "
                            "batch 64, 10 epochs); bn: conv-BN blocks (Adam 1e-3, cosine "
                            "schedule, batch 128, 5 epochs); flags override either")
                 ->check(CLI::IsMember({"torch", "bn"}));
           },
       .build_model =
           [](const mnist::Config& c) { return c.model == "bn" ? bn_net() : torch_net(); },
       .model_defaults =
           [](mnist::Config& c, const std::function<bool(const char*)>& given) {
             if (c.model != "bn") return;
             if (!given("--optimizer")) c.optimizer = "adam";
             if (!given("--lr")) c.lr = 1e-3;
             if (!given("--lr-schedule")) c.schedule = "cosine";
             if (!given("--batch-size")) c.batch = "128";
             if (!given("--epochs")) c.epochs = 5;
           }});
}
