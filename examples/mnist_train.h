// The MNIST examples' shared program: flags, data, optimizer and schedule, the loop through
// train::fit with its progress bar, log, checkpoints, resume and plots, data-parallel training
// over MPI (--distributed), and the final report. Each example (mnist_mlp, mnist_cnn) supplies
// its name, its network and the flags that shape it.
#pragma once
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <sstream>
#include <tapegrad/tapegrad.hpp>

namespace mnist {

namespace tg = tapegrad;
namespace nn = tg::nn;
namespace optim = tg::optim;
namespace data = tg::data;
namespace train = tg::train;

struct Config {
  std::string data_dir, dataset = "fashion", activation = "relu", optimizer = "adam";
  std::vector<std::int64_t> hidden{256, 128};  // mnist_mlp's layers
  std::string model = "torch";                 // mnist_cnn's network
  double lr = 0, momentum = 0.9, weight_decay = 0, clip_norm = 0;
  std::string batch = "128", schedule = "cosine", save = "mnist_mlp-checkpoints", log, plot;
  bool resume = false, distributed = false;
  int epochs = 15, threads = 0;
  std::uint64_t seed = 42;
  std::int64_t train_limit = 0, test_limit = 0;
  int stop_after = 0;
};

inline std::string find_data(const Config& c) {
  if (!c.data_dir.empty()) return c.data_dir;
  if (c.dataset == "mnist") return "data/mnist";
  for (const char* dir : {"data/fashion-mnist", "/usr/share/datasets/fashion-mnist"})
    if (std::filesystem::exists(dir)) return dir;
  return "data/fashion-mnist";
}

inline std::unique_ptr<optim::Optimizer> build_optimizer(const Config& c, const nn::Module& m) {
  const auto params = m.named_parameters();
  const double wd = c.weight_decay;
  auto lr = [&](double fallback) { return c.lr > 0 ? c.lr : fallback; };
  if (c.optimizer == "sgd")
    return std::make_unique<optim::SGD>(params,
                                        optim::SGDOptions{.lr = lr(0.1), .weight_decay = wd});
  if (c.optimizer == "momentum")
    return std::make_unique<optim::SGD>(
        params, optim::SGDOptions{.lr = lr(0.05), .momentum = c.momentum, .weight_decay = wd});
  if (c.optimizer == "nesterov")
    return std::make_unique<optim::SGD>(
        params, optim::SGDOptions{
                    .lr = lr(0.05), .momentum = c.momentum, .weight_decay = wd, .nesterov = true});
  if (c.optimizer == "adagrad")
    return std::make_unique<optim::Adagrad>(
        params, optim::AdagradOptions{.lr = lr(0.01), .weight_decay = wd});
  if (c.optimizer == "rmsprop")
    return std::make_unique<optim::RMSprop>(
        params, optim::RMSpropOptions{.lr = lr(1e-3), .weight_decay = wd});
  if (c.optimizer == "adamax")
    return std::make_unique<optim::Adamax>(
        params, optim::AdamaxOptions{.lr = lr(2e-3), .weight_decay = wd});
  if (c.optimizer == "adadelta")
    return std::make_unique<optim::Adadelta>(
        params, optim::AdadeltaOptions{.lr = lr(1.0), .weight_decay = wd});
  if (c.optimizer == "nadam")
    return std::make_unique<optim::NAdam>(params,
                                          optim::NAdamOptions{.lr = lr(2e-3), .weight_decay = wd});
  if (c.optimizer == "radam")
    return std::make_unique<optim::RAdam>(params,
                                          optim::RAdamOptions{.lr = lr(1e-3), .weight_decay = wd});
  if (c.optimizer == "rprop")  // sign-based: meant for --batch-size full
    return std::make_unique<optim::Rprop>(params, optim::RpropOptions{.lr = lr(0.01)});
  if (c.optimizer == "asgd")
    return std::make_unique<optim::ASGD>(params,
                                         optim::ASGDOptions{.lr = lr(0.1), .weight_decay = wd});
  if (c.optimizer == "adamw")
    return std::make_unique<optim::AdamW>(params,
                                          optim::AdamWOptions{.lr = lr(1e-3), .weight_decay = wd});
  return std::make_unique<optim::Adam>(params,
                                       optim::AdamOptions{.lr = lr(1e-3), .weight_decay = wd});
}

// Whether the schedule steps after every batch (fit's schedule_per_batch) rather than every epoch.
inline bool schedule_per_batch(const Config& c) { return c.schedule == "onecycle"; }

// steps_per_epoch: the loader's batches, for the schedules that count batches.
inline std::unique_ptr<optim::LRScheduler> build_schedule(const Config& c, optim::Optimizer& opt,
                                                          std::int64_t steps_per_epoch) {
  if (c.schedule == "onecycle")  // the optimizer's lr is the peak; momentum cycles if it has one
    return std::make_unique<optim::OneCycleLR>(
        opt, opt.lr(), std::int64_t{c.epochs} * steps_per_epoch,  // int x int64: no overflow
        optim::OneCycleLROptions{.cycle_momentum = opt.has_momentum()});
  if (c.schedule == "cosine-restarts")  // cycles of 1, 2, 4, 8 ... epochs
    return std::make_unique<optim::CosineAnnealingWarmRestarts>(opt, 1, 2);
  if (c.schedule == "step")
    return std::make_unique<optim::StepLR>(opt, std::max(1, c.epochs / 3), 0.1);
  if (c.schedule == "exponential") return std::make_unique<optim::ExponentialLR>(opt, 0.8);
  if (c.schedule == "cosine") return std::make_unique<optim::CosineAnnealingLR>(opt, c.epochs);
  if (c.schedule == "warmup-cosine") {
    const std::int64_t warm = std::max(1, c.epochs / 5);
    auto w = std::make_shared<optim::LinearLR>(opt, 0.1, 1.0, warm);
    auto cos =
        std::make_shared<optim::CosineAnnealingLR>(opt, std::max<std::int64_t>(1, c.epochs - warm));
    return std::make_unique<optim::SequentialLR>(
        opt, std::vector<std::shared_ptr<optim::LRScheduler>>{w, cos},
        std::vector<std::int64_t>{warm});
  }
  return nullptr;
}

// The MPI job (one process unless --distributed started MPI).
inline int job_rank() {
#if TAPEGRAD_HAS_DIST
  return tg::dist::rank();
#else
  return 0;
#endif
}
inline int job_size() {
#if TAPEGRAD_HAS_DIST
  return tg::dist::world_size();
#else
  return 1;
#endif
}
// fit's figures summed over the ranks (the train loss is then the whole job's on every rank).
inline void sum_over_ranks(std::span<double> v) {
#if TAPEGRAD_HAS_DIST
  if (tg::dist::world_size() > 1) tg::dist::all_reduce(v);
#else
  (void)v;
#endif
}

// Per class: its accuracy and image count; then the matrix (rows: true class).
inline void print_confusion(const train::Evaluation& e, const std::string& dataset) {
  std::printf("per class:\n");
  for (std::size_t k = 0; k < e.confusion.size(); ++k) {
    std::int64_t total = 0;
    for (std::int64_t v : e.confusion[k]) total += v;
    std::printf("  %zu %-12s %6.2f%%  (%lld images)\n", k,
                dataset == "fashion" ? data::kFashionClasses[k] : "",
                total ? 100 * e.per_class_accuracy[k] : 0.0, static_cast<long long>(total));
  }
  std::printf("confusion matrix (rows: true class, columns: predicted):\n");
  for (const auto& row : e.confusion) {
    std::printf("  ");
    for (std::int64_t v : row) std::printf("%5lld", static_cast<long long>(v));
    std::printf("\n");
  }
}

// What differs between the MNIST examples: the name, the network and its flags, the defaults.
struct Example {
  std::string name;         // the program's name, in its messages and checkpoint files
  std::string description;  // the --help line
  Config defaults;
  std::function<void(CLI::App&, Config&)> add_model_options;
  std::function<std::shared_ptr<nn::Module>(const Config&)> build_model;
  // After parsing: the chosen network's own defaults, for each flag not given (given("--lr")).
  std::function<void(Config&, const std::function<bool(const char*)>& given)> model_defaults;
};

inline int train_mnist(int argc, char** argv, const Example& ex) {
  Config c = ex.defaults;
  CLI::App app{ex.description};
  app.add_option("--data", c.data_dir, "Folder with the four IDX files (default: data/<dataset>)");
  app.add_option("--dataset", c.dataset, "fashion or mnist")
      ->check(CLI::IsMember({"fashion", "mnist"}));
  ex.add_model_options(app, c);
  app.add_option("--optimizer", c.optimizer)
      ->check(CLI::IsMember({"sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw",
                             "adamax", "adadelta", "nadam", "radam", "rprop", "asgd"}));
  app.add_option("--lr", c.lr, "Learning rate (default: the optimizer's usual one)");
  app.add_option("--momentum", c.momentum, "Momentum of --optimizer momentum and nesterov");
  app.add_option("--batch-size", c.batch, "A number, or \"full\" for batch gradient descent");
  app.add_option("--epochs", c.epochs)->check(CLI::PositiveNumber);
  app.add_option("--lr-schedule", c.schedule)
      ->check(CLI::IsMember({"none", "step", "exponential", "cosine", "warmup-cosine",
                             "cosine-restarts", "onecycle"}));
  app.add_option("--clip-norm", c.clip_norm, "Clip the gradient norm to this (0: off)");
  app.add_option("--weight-decay", c.weight_decay);
  app.add_option("--seed", c.seed);
  app.add_option("--threads", c.threads, "Threads (default: all cores)");
  app.add_option("--save", c.save,
                 "Folder of checkpoints, written after every epoch (the last two and the best "
                 "by test accuracy are kept); \"\" for none");
  app.add_flag("--resume", c.resume, "Continue from the newest checkpoint in the --save folder");
  app.add_option("--log", c.log, "Per-epoch metrics: CSV (.csv) or JSON Lines (other names)");
  app.add_option("--plot", c.plot, "Folder for loss.png, accuracy.png and confusion.png");
  app.add_option("--train-limit", c.train_limit, "Use only the first N training samples");
  app.add_option("--test-limit", c.test_limit, "Use only the first N test samples");
  app.add_option("--stop-after", c.stop_after,
                 "Stop after this epoch, as if interrupted (resume later)");
#if TAPEGRAD_HAS_DIST
  app.add_flag("--distributed", c.distributed,
               "Data-parallel over the ranks of an MPI job (mpiexec -n N " + ex.name +
                   " --distributed): each rank takes batch-size / N of every batch");
#endif
  CLI11_PARSE(app, argc, argv);
  if (ex.model_defaults)
    ex.model_defaults(c, [&](const char* flag) { return app.count(flag) > 0; });

#if TAPEGRAD_HAS_DIST
  std::unique_ptr<tg::dist::Context> mpi;
  if (c.distributed) mpi = std::make_unique<tg::dist::Context>(argc, argv);
#endif
  const int rank = job_rank(), world = job_size();
  const bool lead = rank == 0;  // prints, logs and writes checkpoints
  try {
    // Ranks on one machine share its cores unless told otherwise.
    if (c.threads > 0 || world > 1)
      tg::set_num_threads(c.threads > 0 ? c.threads : std::max(1, tg::get_num_threads() / world));
    tg::manual_seed(c.seed);
    const std::string dir = find_data(c);
    // Per-dataset pixel statistics, as torchvision's examples normalise.
    const double mean = c.dataset == "mnist" ? 0.1307 : 0.2860,
                 sd = c.dataset == "mnist" ? 0.3081 : 0.3530;
    const data::MNIST train_set(dir, data::Split::Train,
                                {.mean = mean, .std = sd, .limit = c.train_limit});
    const data::MNIST test_set(dir, data::Split::Test,
                               {.mean = mean, .std = sd, .limit = c.test_limit});
    const std::int64_t batch = c.batch == "full" ? data::kFullBatch : std::stoll(c.batch);
    if (batch != data::kFullBatch && batch % world != 0)
      throw tg::ValueError("--batch-size " + std::to_string(batch) +
                           " does not split evenly among " + std::to_string(world) + " ranks");
    data::DataLoader loader(train_set,
                            {.batch_size = batch == data::kFullBatch ? batch : batch / world,
                             .shuffle = true,
                             .seed = c.seed,
                             .num_replicas = world,
                             .rank = rank});
    data::DataLoader test_loader(test_set, {.batch_size = 1000});

    // The network, and what trains it: itself, or its DistributedDataParallel wrapper (which
    // averages the gradients across ranks). Optimizer and checkpoints hold the network itself,
    // so a checkpoint resumes with any number of ranks.
    std::shared_ptr<nn::Module> net = ex.build_model(c);
    std::unique_ptr<nn::Module> ddp;
#if TAPEGRAD_HAS_DIST
    if (c.distributed) ddp = std::make_unique<tg::dist::DistributedDataParallel>(net);
#endif
    nn::Module& model = ddp ? *ddp : *net;
    auto opt = build_optimizer(c, *net);
    auto sched = build_schedule(c, *opt, loader.num_batches());
    if (lead) {
      std::printf("%s: %lld training and %lld test images from %s; %d threads", c.dataset.c_str(),
                  static_cast<long long>(train_set.size()), static_cast<long long>(test_set.size()),
                  dir.c_str(), tg::get_num_threads());
      std::printf(world > 1 ? " on each of %d ranks\n" : "\n", world);
      std::printf("%s, %lld parameters; %s, batch %lld, %d epochs\n",
                  (std::ostringstream() << *net).str().c_str(),
                  static_cast<long long>(net->num_parameters()), opt->name().c_str(),
                  static_cast<long long>(loader.batch_size() * world), c.epochs);
    }

    // The log: --log, or beside the plots when only --plot is given (the curves come from it).
    const std::string log_path = !c.log.empty()    ? c.log
                                 : !c.plot.empty() ? c.plot + "/metrics.csv"
                                                   : "";
    if (!c.plot.empty() && lead) std::filesystem::create_directories(c.plot);
    std::unique_ptr<train::MetricsLog> log;
    if (!log_path.empty() && lead) {
      const bool csv = std::filesystem::path(log_path).extension() == ".csv";
      log = std::make_unique<train::MetricsLog>(
          train::MetricsLogOptions{.csv = csv ? log_path : "",
                                   .jsonl = csv ? "" : log_path,
                                   .config = {{"dataset", c.dataset},
                                              {"optimizer", opt->name()},
                                              {"batch_size", std::to_string(batch)},
                                              {"ranks", std::to_string(world)},
                                              {"epochs", std::to_string(c.epochs)},
                                              {"lr_schedule", c.schedule},
                                              {"seed", std::to_string(c.seed)}},
                                   .append = c.resume});
    }
    std::unique_ptr<train::Checkpointer> ckpt;
    if (!c.save.empty())
      ckpt = std::make_unique<train::Checkpointer>(
          *net, *opt, sched.get(),
          train::CheckpointerOptions{.dir = c.save,
                                     .prefix = ex.name,
                                     .keep_last = 2,
                                     .best_metric = "test_accuracy",
                                     .best_mode = train::Mode::Max,
                                     .write = lead});  // the other ranks only resume
    if (c.resume && !ckpt) throw tg::ValueError("--resume needs the --save folder");
    if (c.resume && lead && ckpt->checkpoints().empty())
      std::printf("nothing to resume in %s: training from the start\n", c.save.c_str());

    // The per-epoch line, and --stop-after as an interruption.
    // With ranks, fit sums the train loss over them (sum_across_ranks below); every rank
    // evaluates the whole test set, so the test figures agree already.
    train::LambdaCallback report({.on_epoch_end = [&](const train::EpochEnd& e) {
      const train::Record& r = e.record;
      const double train_loss = r.get("train_loss");
      if (lead) {
        std::printf("epoch %2lld  train loss %.4f  test loss %.4f  test accuracy %.2f%%  %.1fs\n",
                    static_cast<long long>(e.epoch), train_loss, r.get("test_loss"),
                    100 * r.get("test_accuracy"), r.get("seconds"));
        std::fflush(stdout);
      }
      return c.stop_after == e.epoch ? train::Signal::Stop : train::Signal::Continue;
    }});
    const train::FitResult fit = train::fit(model, *opt, loader,
                                            {.epochs = c.epochs,
                                             .scheduler = sched.get(),
                                             .schedule_per_batch = schedule_per_batch(c),
                                             .val_loader = &test_loader,
                                             .val_prefix = "test_",
                                             .clip_norm = c.clip_norm,
                                             .callbacks = {&report},
                                             .progress = lead,
                                             .print_epochs = false,
                                             .log = log.get(),
                                             .checkpoint = ckpt.get(),
                                             .resume = c.resume,
                                             .sum_across_ranks = sum_over_ranks});
    if (!lead) return 0;
    if (fit.stopped && fit.progress.epoch < c.epochs) {
      std::printf("stopped after epoch %lld; continue with --resume\n",
                  static_cast<long long>(fit.progress.epoch));
      return 0;
    }

    const train::Evaluation last =
        train::evaluate(model, test_loader,
                        {.metrics = {train::Metric::Accuracy, train::Metric::PerClassAccuracy,
                                     train::Metric::ConfusionMatrix}});
    double train_seconds = 0;
    for (const train::Record& r : fit.epochs) train_seconds += r.get("seconds");
    std::printf("\ntest accuracy %.2f%% after %.1f s of training\n", 100 * *last.accuracy,
                train_seconds);
    print_confusion(last, c.dataset);
    if (ckpt)
      std::printf("checkpoints: %s (best: %s)\n", c.save.c_str(), ckpt->best_path().c_str());
    if (!c.plot.empty()) {
      std::vector<std::string> names;
      if (c.dataset == "fashion")
        for (const char* n : data::kFashionClasses) names.push_back(n);
      const auto title = train::PlotOptions{.title = ex.name + " on " + c.dataset};
      if (train::plot_curves(*log, c.plot, title) &&
          train::plot_confusion(last.confusion, c.plot + "/confusion.png", names, title))
        std::printf("plots: %s/loss.png, %s/accuracy.png, %s/confusion.png\n", c.plot.c_str(),
                    c.plot.c_str(), c.plot.c_str());
    }
  } catch (const std::exception& e) {
#if TAPEGRAD_HAS_DIST
    // The other ranks may be waiting in a collective: end them all.
    if (world > 1) tg::dist::abort(ex.name + ": " + e.what());
#endif
    std::fprintf(stderr, "%s: %s\n", ex.name.c_str(), e.what());
    return 1;
  }
  return 0;
}

}  // namespace mnist
