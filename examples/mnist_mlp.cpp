// The main job: an MLP on Fashion-MNIST (or the MNIST digits) with any optimizer, schedule and
// batch size, a progress bar, per-epoch evaluation, checkpoints and resume.
//   mnist_mlp            defaults: 784-256-128-10 ReLU, Adam 1e-3, batch 128, 15 epochs, cosine lr
//   mnist_mlp --optimizer sgd --batch-size full --lr 0.5      batch gradient descent
//   mnist_mlp --resume mnist_mlp.tg --epochs 15                continue a saved run
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <tapegrad/tapegrad.hpp>

namespace tg = tapegrad;
namespace nn = tg::nn;
namespace optim = tg::optim;
namespace data = tg::data;
using Clock = std::chrono::steady_clock;

namespace {
struct Config {
  std::string data_dir, dataset = "fashion", activation = "relu", optimizer = "adam";
  std::vector<std::int64_t> hidden{256, 128};
  double lr = 0, weight_decay = 0, clip_norm = 0;
  std::string batch = "128", schedule = "cosine", save = "mnist_mlp.tg", resume, log;
  int epochs = 15, threads = 0;
  std::uint64_t seed = 42;
  std::int64_t train_limit = 0, test_limit = 0;
  int stop_after = 0;
};

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

std::string find_data(const Config& c) {
  if (!c.data_dir.empty()) return c.data_dir;
  if (c.dataset == "mnist") return "data/mnist";
  for (const char* dir : {"data/fashion-mnist", "/usr/share/datasets/fashion-mnist"})
    if (std::filesystem::exists(dir)) return dir;
  return "data/fashion-mnist";
}

nn::Sequential build_model(const Config& c) {
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

std::unique_ptr<optim::Optimizer> build_optimizer(const Config& c, const nn::Module& m) {
  const auto params = m.named_parameters();
  const double wd = c.weight_decay;
  auto lr = [&](double fallback) { return c.lr > 0 ? c.lr : fallback; };
  if (c.optimizer == "sgd")
    return std::make_unique<optim::SGD>(params,
                                        optim::SGDOptions{.lr = lr(0.1), .weight_decay = wd});
  if (c.optimizer == "momentum")
    return std::make_unique<optim::SGD>(
        params, optim::SGDOptions{.lr = lr(0.05), .momentum = 0.9, .weight_decay = wd});
  if (c.optimizer == "nesterov")
    return std::make_unique<optim::SGD>(
        params,
        optim::SGDOptions{.lr = lr(0.05), .momentum = 0.9, .weight_decay = wd, .nesterov = true});
  if (c.optimizer == "adagrad")
    return std::make_unique<optim::Adagrad>(
        params, optim::AdagradOptions{.lr = lr(0.01), .weight_decay = wd});
  if (c.optimizer == "rmsprop")
    return std::make_unique<optim::RMSprop>(
        params, optim::RMSpropOptions{.lr = lr(1e-3), .weight_decay = wd});
  if (c.optimizer == "adamw")
    return std::make_unique<optim::AdamW>(params,
                                          optim::AdamWOptions{.lr = lr(1e-3), .weight_decay = wd});
  return std::make_unique<optim::Adam>(params,
                                       optim::AdamOptions{.lr = lr(1e-3), .weight_decay = wd});
}

std::unique_ptr<optim::LRScheduler> build_schedule(const Config& c, optim::Optimizer& opt) {
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

// Mean loss, accuracy and confusion matrix (rows: true class) over a dataset, in chunks.
struct Eval {
  double loss = 0, accuracy = 0;
  std::vector<std::vector<std::int64_t>> confusion =
      std::vector<std::vector<std::int64_t>>(10, std::vector<std::int64_t>(10));
};
Eval evaluate(nn::Module& model, const data::Dataset& ds) {
  tg::NoGradGuard no_grad;
  model.eval();
  Eval r;
  data::DataLoader loader(ds, {.batch_size = 1000});
  std::int64_t correct = 0;
  for (auto& [x, y] : loader) {
    const tg::Tensor logits = model(x);
    r.loss += nn::functional::cross_entropy(logits, y, nn::Reduction::Sum).item();
    const auto pred = tg::argmax(logits, 1).to_vector<std::int64_t>(),
               truth = y.to_vector<std::int64_t>();
    for (std::size_t i = 0; i < pred.size(); ++i) {
      ++r.confusion[truth[i]][pred[i]];
      correct += pred[i] == truth[i];
    }
  }
  model.train();
  r.loss /= static_cast<double>(ds.size());
  r.accuracy = static_cast<double>(correct) / static_cast<double>(ds.size());
  return r;
}

// One line, redrawn in place: batch progress, running loss, throughput, time left.
void draw_progress(int epoch, int epochs, std::int64_t batch, std::int64_t batches, double loss,
                   double samples_per_s, double eta) {
  constexpr int kWidth = 24;
  const int filled = static_cast<int>(kWidth * batch / batches);
  std::printf("\r  epoch %d/%d [%s%s] %lld/%lld  loss %.4f  %.0f samples/s  ETA %.0fs  ", epoch,
              epochs, std::string(filled, '#').c_str(), std::string(kWidth - filled, '.').c_str(),
              static_cast<long long>(batch), static_cast<long long>(batches), loss, samples_per_s,
              eta);
  std::fflush(stdout);
}
}  // namespace

int main(int argc, char** argv) {
  Config c;
  CLI::App app{"Train an MLP on Fashion-MNIST or the MNIST digits with tapegrad."};
  app.add_option("--data", c.data_dir, "Folder with the four IDX files (default: data/<dataset>)");
  app.add_option("--dataset", c.dataset, "fashion or mnist")
      ->check(CLI::IsMember({"fashion", "mnist"}));
  app.add_option("--hidden", c.hidden, "Hidden layer sizes")->expected(1, 16);
  app.add_option("--activation", c.activation)->check(CLI::IsMember({"sigmoid", "tanh", "relu"}));
  app.add_option("--optimizer", c.optimizer)
      ->check(
          CLI::IsMember({"sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"}));
  app.add_option("--lr", c.lr, "Learning rate (default: the optimizer's usual one)");
  app.add_option("--batch-size", c.batch, "A number, or \"full\" for batch gradient descent");
  app.add_option("--epochs", c.epochs)->check(CLI::PositiveNumber);
  app.add_option("--lr-schedule", c.schedule)
      ->check(CLI::IsMember({"none", "step", "exponential", "cosine", "warmup-cosine"}));
  app.add_option("--clip-norm", c.clip_norm, "Clip the gradient norm to this (0: off)");
  app.add_option("--weight-decay", c.weight_decay);
  app.add_option("--seed", c.seed);
  app.add_option("--threads", c.threads, "Threads (default: all cores)");
  app.add_option("--save", c.save, "Checkpoint written after every epoch");
  app.add_option("--resume", c.resume, "Checkpoint to continue from");
  app.add_option("--log", c.log, "CSV file of per-epoch metrics");
  app.add_option("--train-limit", c.train_limit, "Use only the first N training samples");
  app.add_option("--test-limit", c.test_limit, "Use only the first N test samples");
  app.add_option("--stop-after", c.stop_after,
                 "Stop after this epoch, as if interrupted (resume later)");
  CLI11_PARSE(app, argc, argv);

  try {
    if (c.threads > 0) tg::set_num_threads(c.threads);
    tg::manual_seed(c.seed);
    const std::string dir = find_data(c);
    // Per-dataset pixel statistics, as torchvision's examples normalise.
    const double mean = c.dataset == "mnist" ? 0.1307 : 0.2860,
                 sd = c.dataset == "mnist" ? 0.3081 : 0.3530;
    const data::MNIST train(dir, data::Split::Train,
                            {.mean = mean, .std = sd, .limit = c.train_limit});
    const data::MNIST test(dir, data::Split::Test,
                           {.mean = mean, .std = sd, .limit = c.test_limit});
    const std::int64_t batch = c.batch == "full" ? data::kFullBatch : std::stoll(c.batch);
    data::DataLoader loader(train, {.batch_size = batch, .shuffle = true, .seed = c.seed});

    nn::Sequential model = build_model(c);
    auto opt = build_optimizer(c, model);
    auto sched = build_schedule(c, *opt);
    int start_epoch = 0;
    if (!c.resume.empty()) {
      start_epoch =
          static_cast<int>(optim::load_checkpoint(c.resume, model, *opt, sched.get()).epoch);
      std::printf("resumed from %s after epoch %d\n", c.resume.c_str(), start_epoch);
    }
    std::printf("%s: %lld training and %lld test images from %s; %d threads\n", c.dataset.c_str(),
                static_cast<long long>(train.size()), static_cast<long long>(test.size()),
                dir.c_str(), tg::get_num_threads());
    std::printf("%s, %lld parameters; %s, batch %lld, %d epochs\n",
                (std::ostringstream() << model).str().c_str(),
                static_cast<long long>(model.num_parameters()), opt->name().c_str(),
                static_cast<long long>(loader.batch_size()), c.epochs);

    std::ofstream log;
    if (!c.log.empty()) {
      log.open(c.log, std::ios::trunc);
      log << "epoch,train_loss,test_loss,test_accuracy,seconds,lr\n";
    }
    const bool tty = ::isatty(STDOUT_FILENO);
    const std::vector<tg::Tensor> params = model.parameters();  // for clipping, built once
    double train_seconds = 0;
    Eval last;
    for (int epoch = start_epoch; epoch < c.epochs; ++epoch) {
      loader.set_epoch(epoch);  // the shuffle depends on the epoch alone: resumed runs match
      const auto t0 = Clock::now();
      auto last_draw = t0;
      double loss_sum = 0;
      std::int64_t seen = 0, b = 0;
      for (auto& [x, y] : loader) {
        tg::Tensor loss = nn::functional::cross_entropy(model(x), y);
        opt->zero_grad();
        loss.backward();
        if (c.clip_norm > 0) optim::clip_grad_norm_(params, c.clip_norm);
        opt->step();
        loss_sum += loss.item() * static_cast<double>(x.size(0));
        seen += x.size(0);
        ++b;
        if (tty && (seconds_since(last_draw) > 0.1 || b == loader.num_batches())) {
          const double t = seconds_since(t0);
          draw_progress(epoch + 1, c.epochs, b, loader.num_batches(),
                        loss_sum / static_cast<double>(seen), static_cast<double>(seen) / t,
                        t / static_cast<double>(b) * static_cast<double>(loader.num_batches() - b));
          last_draw = Clock::now();
        }
      }
      const double secs = seconds_since(t0);
      train_seconds += secs;
      const double lr = opt->lr();
      if (sched) sched->step();
      last = evaluate(model, test);
      if (tty) std::printf("\r%s\r", std::string(100, ' ').c_str());
      std::printf("epoch %2d  train loss %.4f  test loss %.4f  test accuracy %.2f%%  %.1fs\n",
                  epoch + 1, loss_sum / static_cast<double>(seen), last.loss, 100 * last.accuracy,
                  secs);
      std::fflush(stdout);
      if (log.is_open())
        log << epoch + 1 << ',' << loss_sum / static_cast<double>(seen) << ',' << last.loss << ','
            << last.accuracy << ',' << secs << ',' << lr << '\n';
      if (!c.save.empty())
        optim::save_checkpoint(c.save, model, *opt, sched.get(), {.epoch = epoch + 1, .step = 0});
      if (c.stop_after == epoch + 1) {
        std::printf("stopped after epoch %d; continue with --resume %s\n", epoch + 1,
                    c.save.c_str());
        return 0;
      }
    }
    if (start_epoch >= c.epochs) last = evaluate(model, test);

    std::printf("\ntest accuracy %.2f%% after %.1f s of training\n", 100 * last.accuracy,
                train_seconds);
    std::printf("per class:\n");
    for (int k = 0; k < 10; ++k) {
      std::int64_t total = 0;
      for (std::int64_t v : last.confusion[k]) total += v;
      const char* name = c.dataset == "fashion" ? data::kFashionClasses[k] : "";
      std::printf(
          "  %d %-12s %6.2f%%  (%lld images)\n", k, name,
          total ? 100.0 * static_cast<double>(last.confusion[k][k]) / static_cast<double>(total)
                : 0.0,
          static_cast<long long>(total));
    }
    std::printf("confusion matrix (rows: true class, columns: predicted):\n");
    for (int k = 0; k < 10; ++k) {
      std::printf("  ");
      for (int j = 0; j < 10; ++j)
        std::printf("%5lld", static_cast<long long>(last.confusion[k][j]));
      std::printf("\n");
    }
    if (!c.save.empty()) std::printf("checkpoint: %s\n", c.save.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mnist_mlp: %s\n", e.what());
    return 1;
  }
}
