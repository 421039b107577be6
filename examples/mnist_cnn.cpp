// A convolutional network on Fashion-MNIST (or the MNIST digits), trained by train::fit: the
// loop is the library's, and what happens around it is callbacks (what is printed, the
// schedule, checkpoints and resume, --stop-after). PyTorch's own C++ MNIST example network by
// default, a wider one with batch normalisation with --model bn.
//   mnist_cnn                    torch's network: SGD 0.01, momentum 0.5, batch 64, 10 epochs
//   mnist_cnn --model bn         conv-BN-ReLU blocks: Adam 1e-3, cosine schedule, batch 128,
//                                5 epochs (each overridden by its flag)
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <tapegrad/tapegrad.hpp>

namespace tg = tapegrad;
namespace nn = tg::nn;
namespace optim = tg::optim;
namespace data = tg::data;
namespace train = tg::train;

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
  std::string data_dir, dataset = "fashion", model_name = "torch", optimizer = "momentum";
  std::string schedule = "none", save = "mnist_cnn-checkpoints";
  double lr = 0.01, momentum = 0.5;
  std::int64_t batch = 64, train_limit = 0, test_limit = 0;
  int epochs = 10, threads = 0, stop_after = 0;
  std::uint64_t seed = 42;
  bool resume = false;
  CLI::App app{"Train a convolutional network on Fashion-MNIST or the MNIST digits."};
  app.add_option("--data", data_dir, "Folder with the four IDX files (default: data/<dataset>)");
  app.add_option("--dataset", dataset)->check(CLI::IsMember({"fashion", "mnist"}));
  app.add_option("--model", model_name,
                 "torch: PyTorch's MNIST example network; bn: conv-BN blocks (Adam 1e-3, cosine "
                 "schedule, batch 128, 5 epochs unless given)")
      ->check(CLI::IsMember({"torch", "bn"}));
  app.add_option("--optimizer", optimizer)->check(CLI::IsMember(optim::optimizer_names()));
  app.add_option("--lr", lr);
  app.add_option("--momentum", momentum, "Momentum of --optimizer momentum and nesterov");
  app.add_option("--batch-size", batch)->check(CLI::PositiveNumber);
  app.add_option("--epochs", epochs)->check(CLI::PositiveNumber);
  app.add_option("--lr-schedule", schedule)->check(CLI::IsMember(optim::schedule_names()));
  app.add_option("--seed", seed);
  app.add_option("--threads", threads, "Threads (default: all cores)");
  app.add_option("--save", save, "Checkpoint folder (the last two and the best); \"\": none");
  app.add_flag("--resume", resume, "Continue from the newest checkpoint in --save");
  app.add_option("--train-limit", train_limit, "Use only the first N training samples");
  app.add_option("--test-limit", test_limit, "Use only the first N test samples");
  app.add_option("--stop-after", stop_after, "Stop after this epoch, as if interrupted");
  CLI11_PARSE(app, argc, argv);
  if (model_name == "bn") {  // the bn network's defaults, for each flag not given
    if (!app.count("--optimizer")) optimizer = "adam";
    if (!app.count("--lr")) lr = 1e-3;
    if (!app.count("--lr-schedule")) schedule = "cosine";
    if (!app.count("--batch-size")) batch = 128;
    if (!app.count("--epochs")) epochs = 5;
  }
  try {
    if (threads > 0) tg::set_num_threads(threads);
    tg::manual_seed(seed);
    std::string dir = !data_dir.empty()    ? data_dir
                      : dataset == "mnist" ? "data/mnist"
                                           : "data/fashion-mnist";
    if (data_dir.empty() && dataset == "fashion" && !std::filesystem::exists(dir))
      dir = "/usr/share/datasets/fashion-mnist";
    const bool digits = dataset == "mnist";
    const double mean = digits ? 0.1307 : 0.2860, sd = digits ? 0.3081 : 0.3530;
    const data::MNIST train_set(dir, data::Split::Train,
                                {.mean = mean, .std = sd, .limit = train_limit});
    const data::MNIST test_set(dir, data::Split::Test,
                               {.mean = mean, .std = sd, .limit = test_limit});
    data::DataLoader loader(train_set, {.batch_size = batch, .shuffle = true, .seed = seed});
    data::DataLoader test_loader(test_set, {.batch_size = 1000});

    const std::shared_ptr<nn::Module> net = model_name == "bn" ? bn_net() : torch_net();
    auto opt = optim::make(optimizer, net->named_parameters(), {.lr = lr, .momentum = momentum});
    auto sched = optim::make_schedule(schedule, *opt,
                                      {.epochs = epochs, .steps_per_epoch = loader.num_batches()});
    std::printf("%s, %lld parameters; %s, batch %lld, %d epochs\n",
                (std::ostringstream() << *net).str().c_str(),
                static_cast<long long>(net->num_parameters()), opt->name().c_str(),
                static_cast<long long>(batch), epochs);

    // Around fit's loop: a progress bar, the schedule, a line per epoch and --stop-after as an
    // interruption, and checkpoints (resumed from with --resume).
    train::Printer bars({.bars = true, .epochs = false});
    std::vector<train::Callback*> callbacks = {&bars};
    std::unique_ptr<train::ScheduleStep> step;
    if (sched) {
      step = std::make_unique<train::ScheduleStep>(*sched, optim::steps_per_batch(schedule));
      callbacks.push_back(step.get());
    }
    train::LambdaCallback report({.on_epoch_end = [&](const train::EpochEnd& e) {
      const train::Record& r = e.record;
      std::printf("epoch %2lld  train loss %.4f  test loss %.4f  test accuracy %.2f%%  %.1fs\n",
                  static_cast<long long>(e.epoch), r.get("train_loss"), r.get("test_loss"),
                  100 * r.get("test_accuracy"), r.get("seconds"));
      std::fflush(stdout);
      return e.epoch == stop_after ? train::Signal::Stop : train::Signal::Continue;
    }});
    callbacks.push_back(&report);
    std::unique_ptr<train::Checkpointer> ckpt;
    if (!save.empty()) {
      ckpt = std::make_unique<train::Checkpointer>(
          *net, *opt, sched.get(),
          train::CheckpointerOptions{.dir = save,
                                     .prefix = "mnist_cnn",
                                     .keep_last = 2,
                                     .best_metric = "test_accuracy",
                                     .best_mode = train::Mode::Max,
                                     .resume = resume});
      callbacks.push_back(ckpt.get());
    } else if (resume) {
      throw tg::ValueError("--resume needs the --save folder");
    }
    train::FitOptions options;  // assigned, not designated: GCC 12 warns on its std::functions
    options.epochs = epochs;
    options.val_loader = &test_loader;
    options.val_prefix = "test_";
    options.callbacks = callbacks;
    options.verbose = false;
    const train::FitResult r = train::fit(*net, *opt, loader, options);
    if (r.stopped) {
      std::printf("stopped after epoch %lld; continue with --resume\n",
                  static_cast<long long>(r.progress.epoch));
      return 0;
    }
    double seconds = 0;
    for (const train::Record& e : r.epochs) seconds += e.get("seconds");
    std::printf("\ntest accuracy %.2f%% after %.1f s of training\n",
                100 * r.epochs.back().get("test_accuracy"), seconds);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mnist_cnn: %s\n", e.what());
    return 1;
  }
  return 0;
}
