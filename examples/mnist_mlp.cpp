// The main job: an MLP on Fashion-MNIST (or the MNIST digits), trained by a loop you can read
// and change: forward, loss, backward, step, batch after batch, with a progress bar, the test
// set after every epoch, a log, checkpoints to resume from, and plots. Any optimizer and
// schedule by name (optim::make, optim::make_schedule); --distributed for MPI ranks, with
// --local-sgd K for periodic averaging instead of averaging the gradients every step.
//   mnist_mlp            defaults: 784-256-128-10 ReLU, Adam 1e-3, batch 128, 15 epochs, cosine lr
//   mnist_mlp --optimizer sgd --batch-size full --lr 0.5      batch gradient descent
//   mnist_mlp --stop-after 3, then mnist_mlp --resume          continue a saved run
//   mnist_mlp --plot plots                                     loss, accuracy, confusion PNGs
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <span>
#include <sstream>
#include <tapegrad/tapegrad.hpp>

namespace tg = tapegrad;
namespace nn = tg::nn;
namespace optim = tg::optim;
namespace data = tg::data;
namespace train = tg::train;

namespace {
struct Flags {
  std::string data_dir, dataset = "fashion", activation = "relu", optimizer = "adam";
  std::vector<std::int64_t> hidden{256, 128};
  double lr = 0, momentum = 0.9, weight_decay = 0, clip_norm = 0;
  std::string batch = "128", schedule = "cosine", save = "mnist_mlp-checkpoints", log, plot;
  bool resume = false, distributed = false;
  int epochs = 15, threads = 0, stop_after = 0;
  std::int64_t local_sgd = 0;  // with --distributed: average every this many steps (0: DDP)
  std::uint64_t seed = 42;
  std::int64_t train_limit = 0, test_limit = 0;
};

// Plain SGD has no default lr, and RMSprop and ASGD train this MLP better below torch's.
double default_lr(const std::string& optimizer) {
  if (optimizer == "sgd" || optimizer == "asgd") return 0.1;
  if (optimizer == "momentum" || optimizer == "nesterov") return 0.05;
  if (optimizer == "rmsprop") return 1e-3;
  return 0;  // the optimizer's own
}

nn::Sequential mlp(const Flags& f) {
  nn::Sequential model;
  std::int64_t in = 784;
  for (std::int64_t h : f.hidden) {
    model.push_back(nn::Linear(in, h));
    if (f.activation == "sigmoid")
      model.push_back(nn::Sigmoid());
    else if (f.activation == "tanh")
      model.push_back(nn::Tanh());
    else
      model.push_back(nn::ReLU());
    in = h;
  }
  model.push_back(nn::Linear(in, 10));
  return model;
}

// Per class: its accuracy and image count; then the matrix (rows: true class).
void print_confusion(const train::Evaluation& e, const std::vector<std::string>& names) {
  std::printf("per class:\n");
  for (std::size_t k = 0; k < e.confusion.size(); ++k) {
    std::int64_t total = 0;
    for (std::int64_t v : e.confusion[k]) total += v;
    std::printf("  %zu %-12s %6.2f%%  (%lld images)\n", k, names[k].c_str(),
                total ? 100 * e.per_class_accuracy[k] : 0.0, static_cast<long long>(total));
  }
  std::printf("confusion matrix (rows: true class, columns: predicted):\n");
  for (const auto& row : e.confusion) {
    std::printf("  ");
    for (std::int64_t v : row) std::printf("%5lld", static_cast<long long>(v));
    std::printf("\n");
  }
}
}  // namespace

int main(int argc, char** argv) {
  Flags f;
  CLI::App app{"Train an MLP on Fashion-MNIST or the MNIST digits with tapegrad."};
  app.add_option("--data", f.data_dir, "Folder with the four IDX files (default: data/<dataset>)");
  app.add_option("--dataset", f.dataset)->check(CLI::IsMember({"fashion", "mnist"}));
  app.add_option("--hidden", f.hidden, "Hidden layer sizes")->expected(1, 16);
  app.add_option("--activation", f.activation)->check(CLI::IsMember({"sigmoid", "tanh", "relu"}));
  std::vector<std::string> optimizers = optim::optimizer_names();
  std::erase(optimizers, "lbfgs");  // it steps with a closure: a loop of its own
  app.add_option("--optimizer", f.optimizer)->check(CLI::IsMember(optimizers));
  app.add_option("--lr", f.lr, "Learning rate (default: the optimizer's usual one)");
  app.add_option("--momentum", f.momentum, "Momentum of --optimizer momentum and nesterov");
  app.add_option("--batch-size", f.batch, "A number, or \"full\" for batch gradient descent");
  app.add_option("--epochs", f.epochs)->check(CLI::PositiveNumber);
  app.add_option("--lr-schedule", f.schedule)->check(CLI::IsMember(optim::schedule_names()));
  app.add_option("--clip-norm", f.clip_norm, "Clip the gradient norm to this (0: off)");
  app.add_option("--weight-decay", f.weight_decay);
  app.add_option("--seed", f.seed);
  app.add_option("--threads", f.threads, "Threads (default: all cores)");
  app.add_option("--save", f.save, "Checkpoint folder (the last two and the best); \"\": none");
  app.add_flag("--resume", f.resume, "Continue from the newest checkpoint in --save");
  app.add_option("--log", f.log, "Metrics: CSV (.csv) or JSON Lines (other names)");
  app.add_option("--plot", f.plot, "Folder for loss.png, accuracy.png and confusion.png");
  app.add_option("--train-limit", f.train_limit, "Use only the first N training samples");
  app.add_option("--test-limit", f.test_limit, "Use only the first N test samples");
  app.add_option("--stop-after", f.stop_after, "Stop after this epoch, as if interrupted");
#if TAPEGRAD_HAS_DIST
  app.add_flag("--distributed", f.distributed,
               "Data-parallel over an MPI job's ranks (mpiexec -n N mnist_mlp --distributed): "
               "each takes batch-size / N of every batch");
  app.add_option("--local-sgd", f.local_sgd,
                 "With --distributed: local SGD, the ranks averaging their models every K steps "
                 "(and at each epoch's end) instead of their gradients every step")
      ->check(CLI::PositiveNumber);
  std::unique_ptr<tg::dist::Context> mpi;
#endif
  CLI11_PARSE(app, argc, argv);
#if TAPEGRAD_HAS_DIST
  if (f.local_sgd > 0 && !f.distributed) {
    std::fprintf(stderr, "mnist_mlp: --local-sgd needs --distributed\n");
    return 1;
  }
  if (f.distributed) mpi = std::make_unique<tg::dist::Context>(argc, argv);
  const int rank = tg::dist::rank(), world = tg::dist::world_size();
#else
  const int rank = 0, world = 1;
#endif
  const bool lead = rank == 0;  // prints, logs and writes checkpoints
  try {
    if (f.threads > 0 || world > 1)  // ranks on one machine share its cores
      tg::set_num_threads(f.threads > 0 ? f.threads : std::max(1, tg::get_num_threads() / world));
    tg::manual_seed(f.seed);

    // Data, normalised by its pixel statistics as torchvision's examples do.
    std::string dir = f.data_dir.empty() ? "data/" + f.dataset : f.data_dir;
    if (f.data_dir.empty() && f.dataset == "fashion") dir = "data/fashion-mnist";
    if (!std::filesystem::exists(dir) && f.dataset == "fashion")
      dir = "/usr/share/datasets/fashion-mnist";
    const bool digits = f.dataset == "mnist";
    const double mean = digits ? 0.1307 : 0.2860, sd = digits ? 0.3081 : 0.3530;
    const data::MNIST train_set(dir, data::Split::Train,
                                {.mean = mean, .std = sd, .limit = f.train_limit});
    const data::MNIST test_set(dir, data::Split::Test,
                               {.mean = mean, .std = sd, .limit = f.test_limit});
    const std::int64_t batch = f.batch == "full" ? data::kFullBatch : std::stoll(f.batch);
    if (batch != data::kFullBatch && batch % world != 0)
      throw tg::ValueError("--batch-size " + f.batch + " does not split among the ranks");
    data::DataLoader loader(train_set,
                            {.batch_size = batch == data::kFullBatch ? batch : batch / world,
                             .shuffle = true,
                             .seed = f.seed,
                             .num_replicas = world,
                             .rank = rank});
    data::DataLoader test_loader(test_set, {.batch_size = 1000});

    // The network, and what trains it: itself, or the wrapper that averages the gradients
    // across ranks. Optimizer and checkpoints hold the network: a checkpoint resumes at any
    // rank count.
    auto net = std::make_shared<nn::Sequential>(mlp(f));
    std::unique_ptr<nn::Module> ddp;
#if TAPEGRAD_HAS_DIST
    if (f.distributed && f.local_sgd == 0)
      ddp = std::make_unique<tg::dist::DistributedDataParallel>(net);
#endif
    nn::Module& model = ddp ? *ddp : *net;
    auto opt = optim::make(f.optimizer, net->named_parameters(),
                           {.lr = f.lr > 0 ? f.lr : default_lr(f.optimizer),
                            .momentum = f.momentum,
                            .weight_decay = f.weight_decay});
    auto sched = optim::make_schedule(
        f.schedule, *opt, {.epochs = f.epochs, .steps_per_epoch = loader.num_batches()});
    const bool per_batch = optim::steps_per_batch(f.schedule);
    if (lead)
      std::printf(
          "%s: %lld training and %lld test images from %s; %d threads%s\n%s, %lld "
          "parameters; %s, batch %lld, %d epochs\n",
          f.dataset.c_str(), static_cast<long long>(train_set.size()),
          static_cast<long long>(test_set.size()), dir.c_str(), tg::get_num_threads(),
          world > 1 ? (" on each of " + std::to_string(world) + " ranks").c_str() : "",
          (std::ostringstream() << *net).str().c_str(),
          static_cast<long long>(net->num_parameters()), opt->name().c_str(),
          static_cast<long long>(loader.batch_size() * world), f.epochs);

    // Around the loop: a log (--log, or beside the plots) and checkpoints, written by rank 0.
    const std::string log_path = !f.log.empty()    ? f.log
                                 : !f.plot.empty() ? f.plot + "/metrics.csv"
                                                   : "";
    if (!f.plot.empty() && lead) std::filesystem::create_directories(f.plot);
    std::unique_ptr<train::MetricsLog> log;
    if (!log_path.empty() && lead) {
      const bool csv = std::filesystem::path(log_path).extension() == ".csv";
      log = std::make_unique<train::MetricsLog>(
          train::MetricsLogOptions{.csv = csv ? log_path : "",
                                   .jsonl = csv ? "" : log_path,
                                   .config = {{"dataset", f.dataset},
                                              {"optimizer", opt->name()},
                                              {"batch_size", f.batch},
                                              {"ranks", std::to_string(world)},
                                              {"epochs", std::to_string(f.epochs)},
                                              {"lr_schedule", f.schedule},
                                              {"seed", std::to_string(f.seed)}},
                                   .append = f.resume});
    }
    std::unique_ptr<train::Checkpointer> ckpt;
    if (!f.save.empty()) {
      ckpt = std::make_unique<train::Checkpointer>(
          *net, *opt, sched.get(),
          train::CheckpointerOptions{.dir = f.save,
                                     .prefix = "mnist_mlp",
                                     .keep_last = 2,
                                     .best_metric = "test_accuracy",
                                     .best_mode = train::Mode::Max,
                                     .write = lead});
      ckpt->attach(loader);
      if (log) ckpt->attach(*log);
    }
    train::Progress p;  // where training stands
    if (f.resume) {
      if (!ckpt) throw tg::ValueError("--resume needs the --save folder");
      const auto restored = ckpt->resume();
      if (restored) p = *restored;
      if (lead && restored)
        std::printf("resumed from %s after epoch %lld (step %lld)\n", ckpt->resumed_from().c_str(),
                    static_cast<long long>(p.epoch), static_cast<long long>(p.step));
      else if (lead)
        std::printf("nothing to resume in %s: training from the start\n", f.save.c_str());
    }
    loader.set_epoch(p.epoch, p.batch);
#if TAPEGRAD_HAS_DIST
    // Local SGD: each rank steps its own replica; the optimizers' state is averaged too, so a
    // checkpoint (taken after an epoch's averaging) holds every rank's state.
    std::unique_ptr<tg::dist::LocalSGD> local;
    if (f.local_sgd > 0) {
      local = std::make_unique<tg::dist::LocalSGD>(
          *net, *opt,
          tg::dist::LocalSGDOptions{.period = f.local_sgd, .average_optimizer_state = true});
      local->set_steps(p.step);
      if (lead)
        std::printf("local SGD: the ranks average every %lld steps\n",
                    static_cast<long long>(f.local_sgd));
    }
#endif

    // The loop.
    std::vector<train::Record> epochs;
    while (p.epoch < f.epochs) {
      model.train();
      const double lr = opt->lr();
      train::ProgressBar bar(loader.num_batches() - p.batch,
                             {.label = "epoch " + std::to_string(p.epoch + 1),
                              .unit = "batches",
                              .terminal = lead ? std::nullopt : std::optional<bool>(false)});
      double sums[2] = {0, 0};  // loss x samples, samples
      for (auto& [x, y] : loader) {
        tg::Tensor loss = nn::functional::cross_entropy(model(x), y);
        opt->zero_grad();
        loss.backward();
        if (f.clip_norm > 0) optim::clip_grad_norm_(net->parameters(), f.clip_norm);
        opt->step();
#if TAPEGRAD_HAS_DIST
        if (local) local->step();
#endif
        if (sched && per_batch) sched->step();
        sums[0] += loss.item() * static_cast<double>(x.size(0));
        sums[1] += static_cast<double>(x.size(0));
        ++p.step, ++p.batch;
        if (lead) bar.update(1, loss.item());
        if (ckpt) ckpt->on_step(p);
      }
#if TAPEGRAD_HAS_DIST
      if (local && local->steps() % f.local_sgd != 0) local->average();  // one model to evaluate
#endif
      bar.finish();
      const double seconds = bar.elapsed_seconds();
      ++p.epoch, p.batch = 0;
      if (sched && !per_batch) sched->step();
#if TAPEGRAD_HAS_DIST
      if (world > 1) tg::dist::all_reduce(std::span<double>(sums));  // the job's train loss
#endif
      train::Record r{{"epoch", static_cast<double>(p.epoch)}, {"train_loss", sums[0] / sums[1]}};
      for (const auto& [k, v] : train::evaluate(model, test_loader).record("test_")) r.set(k, v);
      r.set("lr", lr).set("seconds", seconds);
      if (lead) {
        std::printf("epoch %2lld  train loss %.4f  test loss %.4f  test accuracy %.2f%%  %.1fs\n",
                    static_cast<long long>(p.epoch), r.get("train_loss"), r.get("test_loss"),
                    100 * r.get("test_accuracy"), r.get("seconds"));
        std::fflush(stdout);
      }
      if (log) log->log_epoch(r);
      if (ckpt) ckpt->on_epoch(p, r);
      epochs.push_back(r);
      if (p.epoch == f.stop_after && p.epoch < f.epochs) {
        if (lead) std::printf("stopped after epoch %d; continue with --resume\n", f.stop_after);
        return 0;
      }
    }
    if (!lead) return 0;

    // The last evaluation in detail, and the plots.
    const train::Evaluation last =
        train::evaluate(model, test_loader,
                        {.metrics = {train::Metric::Accuracy, train::Metric::PerClassAccuracy,
                                     train::Metric::ConfusionMatrix}});
    double seconds = 0;
    for (const train::Record& r : epochs) seconds += r.get("seconds");
    std::printf("\ntest accuracy %.2f%% after %.1f s of training\n", 100 * *last.accuracy, seconds);
    std::vector<std::string> names;
    for (std::size_t k = 0; k < last.confusion.size(); ++k)
      names.push_back(f.dataset == "fashion" ? data::kFashionClasses[k] : std::to_string(k));
    print_confusion(last, names);
    if (ckpt)
      std::printf("checkpoints: %s (best: %s)\n", f.save.c_str(), ckpt->best_path().c_str());
    const train::PlotOptions title{.title = "mnist_mlp on " + f.dataset};
    if (!f.plot.empty() && train::plot_curves(*log, f.plot, title) &&
        train::plot_confusion(last.confusion, f.plot + "/confusion.png", names, title))
      std::printf("plots: %s/loss.png, %s/accuracy.png, %s/confusion.png\n", f.plot.c_str(),
                  f.plot.c_str(), f.plot.c_str());
  } catch (const std::exception& e) {
#if TAPEGRAD_HAS_DIST
    if (world > 1) tg::dist::abort(std::string("mnist_mlp: ") + e.what());  // end every rank
#endif
    std::fprintf(stderr, "mnist_mlp: %s\n", e.what());
    return 1;
  }
  return 0;
}
