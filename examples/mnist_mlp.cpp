// The main job: an MLP on Fashion-MNIST (or the MNIST digits) with any optimizer, schedule and
// batch size. The loop and its furniture (progress bar, evaluation, log, checkpoints, plots) are
// tapegrad::train's; what is particular to this script is its flags, model and data.
//   mnist_mlp            defaults: 784-256-128-10 ReLU, Adam 1e-3, batch 128, 15 epochs, cosine lr
//   mnist_mlp --optimizer sgd --batch-size full --lr 0.5      batch gradient descent
//   mnist_mlp --stop-after 3, then mnist_mlp --resume          continue a saved run
//   mnist_mlp --plot plots                                     loss, accuracy, confusion PNGs
#include "mnist_train.h"

namespace nn = tapegrad::nn;

namespace {
nn::Sequential layers(const mnist::Config& c) {
  nn::Sequential model;
  std::int64_t in = 784;
  for (std::int64_t h : c.hidden) {
    model.push_back(nn::Linear(in, h));
    if (c.activation == "sigmoid")
      model.push_back(nn::Sigmoid());
    else if (c.activation == "tanh")
      model.push_back(nn::Tanh());
    else
      model.push_back(nn::ReLU());
    in = h;
  }
  model.push_back(nn::Linear(in, 10));
  return model;
}
}  // namespace

int main(int argc, char** argv) {
  return mnist::train_mnist(
      argc, argv,
      {.name = "mnist_mlp",
       .description = "Train an MLP on Fashion-MNIST or the MNIST digits with tapegrad.",
       .defaults = {},
       .add_model_options =
           [](CLI::App& app, mnist::Config& c) {
             app.add_option("--hidden", c.hidden, "Hidden layer sizes")->expected(1, 16);
             app.add_option("--activation", c.activation)
                 ->check(CLI::IsMember({"sigmoid", "tanh", "relu"}));
           },
       .build_model = [](const mnist::Config& c) -> std::shared_ptr<nn::Module> {
         return std::make_shared<nn::Sequential>(layers(c));
       },
       .model_defaults = nullptr});  // one network: the flags' defaults are its own
}
