// The seed question as one experiment: the same MLP, from the same initial weights, trained on
// the same Fashion-MNIST slice for the same number of epochs by each gradient-descent variant.
// Writes <out>/steps.csv (loss at every step), <out>/epochs.csv (per-epoch metrics),
// <out>/curves.dat + <out>/loss.png (training loss against epochs, via gnuplot) and
// <out>/results.md (final loss, accuracy and time per optimizer).
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <tapegrad/tapegrad.hpp>

namespace tg = tapegrad;
namespace nn = tg::nn;
namespace optim = tg::optim;
namespace data = tg::data;

namespace {
using MakeOpt = std::function<std::unique_ptr<optim::Optimizer>(const std::vector<tg::Tensor>&)>;
struct Variant {
  std::string name;
  std::int64_t batch;
  MakeOpt make;
  bool cosine = false;
  double clip = 0;
};

template <typename O, typename Opts>
MakeOpt make(Opts o) {
  return [o](const std::vector<tg::Tensor>& p) { return std::make_unique<O>(p, o); };
}

nn::Sequential mlp() {
  return nn::Sequential(nn::Linear(784, 128), nn::ReLU(), nn::Linear(128, 10));
}

double accuracy_and_loss(nn::Module& m, const data::TensorDataset& ds, double* loss) {
  tg::NoGradGuard no_grad;
  const tg::Tensor logits = m(ds.inputs());
  *loss = nn::functional::cross_entropy(logits, ds.targets()).item();
  return tg::eq(tg::argmax(logits, 1), ds.targets()).to(tg::kFloat32).mean().item();
}
}  // namespace

int main(int argc, char** argv) {
  std::string dir = "data/fashion-mnist", out = "comparison";
  std::int64_t train_limit = 10000, test_limit = 2000;
  int epochs = 5;
  CLI::App app{"Compare gradient-descent variants on the same MLP and data."};
  app.add_option("--data", dir, "Folder with the IDX files");
  app.add_option("--out", out, "Folder for the CSVs, the plot and the table");
  app.add_option("--train-limit", train_limit);
  app.add_option("--test-limit", test_limit);
  app.add_option("--epochs", epochs);
  CLI11_PARSE(app, argc, argv);
  try {
    if (!std::filesystem::exists(dir) &&
        std::filesystem::exists("/usr/share/datasets/fashion-mnist"))
      dir = "/usr/share/datasets/fashion-mnist";
    const data::MNIST train(dir, data::Split::Train,
                            {.mean = 0.2860, .std = 0.3530, .limit = train_limit});
    const data::MNIST test(dir, data::Split::Test,
                           {.mean = 0.2860, .std = 0.3530, .limit = test_limit});
    std::filesystem::create_directories(out);

    // One set of initial weights for everybody.
    tg::manual_seed(0);
    tg::Archive init;
    nn::save_state(mlp(), init);

    const std::vector<Variant> variants = {
        {"batch GD", data::kFullBatch, make<optim::SGD>(optim::SGDOptions{.lr = 0.2})},
        {"SGD (batch 1)", 1, make<optim::SGD>(optim::SGDOptions{.lr = 0.005})},
        {"mini-batch SGD", 64, make<optim::SGD>(optim::SGDOptions{.lr = 0.1})},
        {"Momentum", 64, make<optim::SGD>(optim::SGDOptions{.lr = 0.02, .momentum = 0.9})},
        {"Nesterov", 64,
         make<optim::SGD>(optim::SGDOptions{.lr = 0.02, .momentum = 0.9, .nesterov = true})},
        {"AdaGrad", 64, make<optim::Adagrad>(optim::AdagradOptions{.lr = 0.02})},
        {"RMSprop", 64, make<optim::RMSprop>(optim::RMSpropOptions{.lr = 1e-3})},
        {"Adam", 64, make<optim::Adam>(optim::AdamOptions{.lr = 1e-3})},
        {"AdamW", 64, make<optim::AdamW>(optim::AdamWOptions{.lr = 1e-3, .weight_decay = 1e-2})},
        {"Adam + cosine lr", 64, make<optim::Adam>(optim::AdamOptions{.lr = 2e-3}), true},
        {"Momentum + clip 1", 64, make<optim::SGD>(optim::SGDOptions{.lr = 0.05, .momentum = 0.9}),
         false, 1.0},
    };

    std::ofstream steps(out + "/steps.csv"), per_epoch(out + "/epochs.csv"),
        curves(out + "/curves.dat"), table(out + "/results.md");
    steps << "optimizer,step,epoch,loss\n";
    per_epoch << "optimizer,epoch,train_loss,test_loss,test_accuracy,seconds\n";
    table << "| optimizer | batch | steps | final train loss | test accuracy | seconds |\n"
             "|---|---|---|---|---|---|\n";
    const double n = static_cast<double>(train.size());
    for (const Variant& v : variants) {
      nn::Sequential model = mlp();
      nn::load_state(model, init);
      const std::vector<tg::Tensor> params = model.parameters();
      auto opt = v.make(params);
      std::unique_ptr<optim::CosineAnnealingLR> sched;
      if (v.cosine) sched = std::make_unique<optim::CosineAnnealingLR>(*opt, epochs);
      data::DataLoader loader(train, {.batch_size = v.batch, .shuffle = true, .seed = 1});
      // The curve: mean loss over windows of 1000 samples, so batch sizes compare by data seen.
      curves << "\"" << v.name << "\"\n";
      double window_loss = 0, window_n = 0, seconds = 0;
      std::int64_t step = 0, seen = 0;
      for (int e = 0; e < epochs; ++e) {
        const auto t0 = std::chrono::steady_clock::now();
        double epoch_loss = 0;
        for (auto& [x, y] : loader) {
          tg::Tensor loss = nn::functional::cross_entropy(model(x), y);
          opt->zero_grad();
          loss.backward();
          if (v.clip > 0) optim::clip_grad_norm_(params, v.clip);
          opt->step();
          const double l = loss.item(), b = static_cast<double>(x.size(0));
          ++step;
          seen += x.size(0);
          steps << v.name << ',' << step << ',' << static_cast<double>(seen) / n << ',' << l
                << '\n';
          epoch_loss += l * b;
          window_loss += l * b;
          window_n += b;
          if (window_n >= 1000) {
            curves << static_cast<double>(seen) / n << ' ' << window_loss / window_n << '\n';
            window_loss = window_n = 0;
          }
        }
        if (sched) sched->step();
        seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        double test_loss = 0;
        const double acc = accuracy_and_loss(model, test, &test_loss);
        per_epoch << v.name << ',' << e + 1 << ',' << epoch_loss / n << ',' << test_loss << ','
                  << acc << ',' << seconds << '\n';
      }
      curves << "\n\n";  // gnuplot: one index block per optimizer
      double train_loss = 0, test_loss = 0;
      accuracy_and_loss(model, train, &train_loss);
      const double acc = accuracy_and_loss(model, test, &test_loss);
      char row[256];
      std::snprintf(row, sizeof row, "| %s | %s | %lld | %.4f | %.2f%% | %.2f |\n", v.name.c_str(),
                    v.batch == data::kFullBatch ? "all" : std::to_string(v.batch).c_str(),
                    static_cast<long long>(step), train_loss, 100 * acc, seconds);
      table << row;
      std::printf("%s", row);
      std::fflush(stdout);
    }
    table.close();
    curves.close();
    const std::string plot = out + "/loss.gp";
    std::ofstream(plot)
        << "set terminal pngcairo size 900,560 font ',10'\n"
        << "set output '" << out << "/loss.png'\n"
        << "set title 'Training loss, same MLP and initial weights (Fashion-MNIST, " << train.size()
        << " images)'\n"
        << "set xlabel 'epochs (data seen)'\nset ylabel 'cross-entropy (mean over 1000 samples)'\n"
        << "set logscale y\nset key outside right\nset grid\n"
        << "plot for [i=0:" << variants.size() - 1 << "] '" << out
        << "/curves.dat' index i using 1:2 with linespoints pointsize 0.4 title columnheader(1)\n";
    if (std::system(("gnuplot " + plot + " 2>/dev/null").c_str()) == 0)
      std::printf("wrote %s/loss.png, %s/results.md, %s/steps.csv, %s/epochs.csv\n", out.c_str(),
                  out.c_str(), out.c_str(), out.c_str());
    else
      std::printf(
          "gnuplot is not available: no plot (scripts/setup.sh installs it); tables are in %s\n",
          out.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "optimizer_comparison: %s\n", e.what());
    return 1;
  }
}
