// Weights across the border: a network trained in PyTorch (scripts/train_in_torch.py, run by
// hand) loaded by tapegrad from torch.save's file and from safetensors, checked prediction by
// prediction against PyTorch's own, fine-tuned for one epoch, and saved with save_torch for
// PyTorch to read back.
//   /usr/bin/python3 scripts/train_in_torch.py            PyTorch trains; writes build/from_pytorch
//   from_pytorch --dir build/from_pytorch                   this program
//   /usr/bin/python3 scripts/train_in_torch.py --evaluate build/from_pytorch/finetuned.pt
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <tapegrad/tapegrad.hpp>

namespace tg = tapegrad;
namespace nn = tg::nn;
namespace io = tg::io;

namespace {
// scripts/train_in_torch.py's network(), module for module, so the names match torch's:
// "1.weight", "2.running_mean", "5.bias", "9.weight".
nn::Sequential net() {
  return nn::Sequential(nn::Unflatten(1, {1, 28, 28}), nn::Conv2d(1, 16, 5, {.padding = 2}, false),
                        nn::BatchNorm2d(16), nn::ReLU(), nn::MaxPool2d({.kernel_size = 2}),
                        nn::Conv2d(16, 32, 5, {.padding = 2}), nn::ReLU(),
                        nn::MaxPool2d({.kernel_size = 2}), nn::Flatten(),
                        nn::Linear(32 * 7 * 7, 10));
}

// The class the network picks for each image, in evaluation mode.
tg::Tensor predict(nn::Module& model, const tg::Tensor& images) {
  model.eval();
  tg::NoGradGuard no_grad;
  return model(images).argmax(1);
}

double accuracy(const tg::Tensor& predicted, const tg::Tensor& labels) {
  return tg::eq(predicted, labels).to(tg::kFloat64).mean().item();
}
}  // namespace

int main(int argc, char** argv) {
  std::string dir = "build/from_pytorch", data_dir;
  CLI::App app{"Load a network PyTorch trained, check it, fine-tune it, save it for PyTorch."};
  app.add_option("--dir", dir, "Where scripts/train_in_torch.py wrote model.pt");
  app.add_option("--data", data_dir, "Fashion-MNIST's IDX files (default: data/fashion-mnist)");
  CLI11_PARSE(app, argc, argv);
  try {
    if (data_dir.empty())
      data_dir = std::filesystem::exists("data/fashion-mnist")
                     ? "data/fashion-mnist"
                     : "/usr/share/datasets/fashion-mnist";
    const std::string model_pt = dir + "/model.pt";
    if (!std::filesystem::exists(model_pt))
      throw tg::IoError("from_pytorch: no " + model_pt +
                        "; first run /usr/bin/python3 scripts/train_in_torch.py --out " + dir);
    const tg::data::MNIST train_set(data_dir, tg::data::Split::Train,
                                    {.mean = 0.2860, .std = 0.3530});
    const tg::data::MNIST test_set(data_dir, tg::data::Split::Test,
                                   {.mean = 0.2860, .std = 0.3530});

    // The same weights through both formats: torch.save's zip and safetensors.
    nn::Sequential from_pt = net(), from_st = net();
    from_pt.load_state_dict(io::load_torch(model_pt));  // strict: every name must match
    from_st.load_state_dict(io::load_safetensors(dir + "/model.safetensors"));
    const tg::Tensor torch_says = io::load_npy(dir + "/predictions.npy");
    const tg::Tensor ours = predict(from_pt, test_set.inputs());
    const std::int64_t same = static_cast<std::int64_t>(tg::eq(ours, torch_says).sum().item());
    const std::int64_t same_st =
        static_cast<std::int64_t>(tg::eq(predict(from_st, test_set.inputs()), ours).sum().item());
    std::printf("loaded %s: test accuracy %.2f%%; predictions equal to PyTorch's: %lld of %lld\n",
                model_pt.c_str(), 100 * accuracy(ours, test_set.targets()),
                static_cast<long long>(same), static_cast<long long>(test_set.size()));
    std::printf("loaded %s/model.safetensors: predictions equal to the .pt file's: %lld of %lld\n",
                dir.c_str(), static_cast<long long>(same_st),
                static_cast<long long>(test_set.size()));

    // One epoch of fine-tuning in tapegrad, then the weights go back to PyTorch.
    tg::manual_seed(1);
    tg::data::DataLoader loader(train_set, {.batch_size = 128, .shuffle = true, .seed = 1});
    tg::optim::Adam opt(from_pt.named_parameters(), {.lr = 2e-4});
    from_pt.train();
    tg::train::FitOptions options;  // assigned, not designated: GCC 12 warns on its std::functions
    options.epochs = 1;
    options.verbose = false;
    tg::train::fit(from_pt, opt, loader, options);
    const tg::Tensor tuned = predict(from_pt, test_set.inputs());
    const std::string out = dir + "/finetuned.pt";
    io::save_torch(from_pt.state_dict(), out);
    std::printf("fine-tuned one epoch in tapegrad: test accuracy %.2f%%; wrote %s\n",
                100 * accuracy(tuned, test_set.targets()), out.c_str());
    std::printf("check it in PyTorch: /usr/bin/python3 scripts/train_in_torch.py --evaluate %s\n",
                out.c_str());
    return same == test_set.size() && same_st == test_set.size() ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "from_pytorch: %s\n", e.what());
    return 1;
  }
}
