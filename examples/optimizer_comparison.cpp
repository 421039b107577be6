// The seed question as one experiment: the same MLP, from the same initial weights, trained on
// the same Fashion-MNIST slice for the same number of epochs by each gradient-descent variant;
// and the seeds' own first experiment, a line y = 4 + 3x + noise fitted by batch and by
// stochastic gradient descent, their paths drawn over the loss's contours. Writes to <out>:
// steps.csv (loss at every step), epochs.csv (per-epoch metrics), results.md (final loss,
// accuracy and time per optimizer) and loss.png (the figure: the variants by family, each curve
// smoothed over its raw points, the line's two paths, and the test accuracies).
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
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
  const char* style;  // gnuplot: a colour and a dash no other variant has
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

// The seeds' first experiment: 100 points y = 4 + 3x + noise, x in [0, 2), and the (b, w) path
// of y = b + w x fitted from (0, 0) by batch gradient descent (every point each step) and by
// stochastic gradient descent (one point a step), both plain SGD at lr 0.1; and the MSE over a
// grid of (b, w) for the contours. Writes line_paths.dat and line_grid.dat.
void fit_line(const std::string& out) {
  tg::Generator gen(42);
  const tg::Tensor x = tg::rand({100, 1}, {.dtype = tg::kFloat64}, &gen) * 2.0;
  const tg::Tensor y = x * 3.0 + 4.0 + tg::randn({100, 1}, {.dtype = tg::kFloat64}, &gen);
  data::TensorDataset points(x, y);
  std::ofstream paths(out + "/line_paths.dat");
  for (const std::int64_t batch : {data::kFullBatch, std::int64_t{1}}) {
    paths << (batch == 1 ? "\"SGD (one point a step)\"\n" : "\"batch GD (every point)\"\n");
    nn::Linear line(1, 1);
    line.to(tg::kFloat64);
    for (const tg::Tensor& p : line.parameters())
      p.set_data(tg::zeros(p.shape(), {.dtype = tg::kFloat64}));
    optim::SGD opt(line.parameters(), {.lr = 0.1});
    data::DataLoader loader(points, {.batch_size = batch, .shuffle = true, .seed = 7});
    const int epochs = batch == 1 ? 2 : 200;  // 200 steps each
    paths << "0 0\n";
    for (int e = 0; e < epochs; ++e)
      for (auto& [xb, yb] : loader) {
        tg::Tensor loss = nn::functional::mse_loss(line(xb), yb);
        opt.zero_grad();
        loss.backward();
        opt.step();
        paths << line.bias().item() << ' ' << line.weight().item() << '\n';
      }
    paths << "\n\n";
  }
  std::ofstream grid(out + "/line_grid.dat");
  for (double b = -1; b <= 7.001; b += 0.1) {
    for (double w = -1; w <= 5.501; w += 0.1)
      grid << b << ' ' << w << ' ' << ((x * w + b - y).square().mean().item()) << '\n';
    grid << '\n';
  }
}

// The figure: five panels of curves (each variant's smoothed loss over its raw points, one
// family a panel, with the family's reference in its own style) and the line's paths, then the
// test accuracies.
std::string figure(const std::string& out, const std::vector<Variant>& variants,
                   std::int64_t images) {
  std::ostringstream s;
  s << "set terminal pngcairo size 1500,950 font ',10'\nset output '" << out << "/loss.png'\n";
  for (std::size_t i = 0; i < variants.size(); ++i)
    s << "set linetype " << i + 1 << ' ' << variants[i].style << " lw 2\n";
  // Contours of the line's MSE, into a table first (a multiplot cannot hold a 3-D plot).
  s << "set contour base\nunset surface\nset view map\n"
    << "set cntrparam levels discrete 1.2,1.5,2,3,5,8,13,21,34\n"
    << "set table '" << out << "/line_contours.dat'\nsplot '" << out
    << "/line_grid.dat' using 1:2:3 with lines\nunset table\nunset contour\n"
    << "set multiplot layout 2,3 title 'Gradient descent on the same MLP and initial weights "
       "(Fashion-MNIST, "
    << images
    << " images): training loss by family; a curve is the mean of 5 windows of "
       "1000 samples, grey dots the windows' font ',12'\n"
    << "set grid\nset logscale y\nset ytics (0.2, 0.3, 0.5, 0.7, 1, 2, 3)\n"
    << "set xlabel 'epochs (data seen)'\nset ylabel 'cross-entropy'\nset yrange [0.2:3]\n"
    << "set key top right\n";
  // A family's panel: each member's raw windows faint, its smoothed curve over them.
  auto panel = [&](const char* title, const std::vector<std::size_t>& members) {
    s << "set title '" << title << "'\nplot ";
    for (std::size_t k = 0; k < members.size(); ++k) {
      const std::size_t i = members[k];
      s << (k ? ", " : "") << "'" << out << "/curves.dat' index " << i
        << " using 1:2 with points pt 7 ps 0.35 lc rgb '#c8c8c8' notitle, '' index " << i
        << " using 1:3 with lines lt " << i + 1 << " title '" << variants[i].name << "'";
    }
    s << "\n";
  };
  panel("Batch, stochastic and mini-batch SGD", {0, 1, 2});
  panel("Momentum and Nesterov (mini-batch SGD for reference)", {2, 3, 4});
  panel("Adaptive learning rates", {5, 6, 7, 8});
  panel("A schedule and clipping (their plain forms for reference)", {7, 9, 3, 10});
  s << "unset logscale y\nset ytics autofreq\nset xrange [-1:7]\nset yrange [-1:5.5]\n"
    << "set title 'y = 4 + 3x + noise: the path of (b, w) from (0, 0), 200 steps each'\n"
    << "set xlabel 'b'\nset ylabel 'w'\nset key bottom right\n"
    << "plot '" << out << "/line_contours.dat' with lines lc rgb '#b0b0b0' notitle, '" << out
    << "/line_paths.dat' index 0 with lines lt 1 lw 2.5 title columnheader(1), '' index 1 "
       "with linespoints lt 2 lw 1 pt 7 ps 0.3 title columnheader(1), '+' using (4):(3) "
       "with points pt 3 ps 2 lc rgb '#000000' title 'the line drawn from: b = 4, w = 3'\n"
    << "set xrange [*:*]\nset yrange [60:90]\nset title 'Test accuracy after the same epochs'\n"
    << "set xlabel ''\nset ylabel 'accuracy (%)'\nset style fill solid 0.8\nset boxwidth 0.7\n"
    << "set xtics rotate by 40 right\nunset key\n"
    << "plot '" << out << "/accuracy.dat' using 0:2:3:xtic(1) with boxes lc variable\n"
    << "unset multiplot\n";
  return s.str();
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

    // Colours of a qualitative palette, and dashes, so that no two variants look alike.
    const std::vector<Variant> variants = {
        {"batch GD", data::kFullBatch, make<optim::SGD>(optim::SGDOptions{.lr = 0.2}), false, 0,
         "lc rgb '#1b9e77' dt 1"},
        {"SGD (batch 1)", 1, make<optim::SGD>(optim::SGDOptions{.lr = 0.005}), false, 0,
         "lc rgb '#d95f02' dt 1"},
        {"mini-batch SGD", 64, make<optim::SGD>(optim::SGDOptions{.lr = 0.1}), false, 0,
         "lc rgb '#7570b3' dt 1"},
        {"Momentum", 64, make<optim::SGD>(optim::SGDOptions{.lr = 0.02, .momentum = 0.9}), false, 0,
         "lc rgb '#e7298a' dt 1"},
        {"Nesterov", 64,
         make<optim::SGD>(optim::SGDOptions{.lr = 0.02, .momentum = 0.9, .nesterov = true}), false,
         0, "lc rgb '#66a61e' dt 2"},
        {"AdaGrad", 64, make<optim::Adagrad>(optim::AdagradOptions{.lr = 0.02}), false, 0,
         "lc rgb '#e6ab02' dt 1"},
        {"RMSprop", 64, make<optim::RMSprop>(optim::RMSpropOptions{.lr = 1e-3}), false, 0,
         "lc rgb '#a6761d' dt 2"},
        {"Adam", 64, make<optim::Adam>(optim::AdamOptions{.lr = 1e-3}), false, 0,
         "lc rgb '#1f78b4' dt 1"},
        {"AdamW", 64, make<optim::AdamW>(optim::AdamWOptions{.lr = 1e-3, .weight_decay = 1e-2}),
         false, 0, "lc rgb '#525252' dt 3"},
        {"Adam + cosine lr", 64, make<optim::Adam>(optim::AdamOptions{.lr = 2e-3}), true, 0,
         "lc rgb '#e31a1c' dt 2"},
        {"Momentum + clip 1", 64, make<optim::SGD>(optim::SGDOptions{.lr = 0.05, .momentum = 0.9}),
         false, 1.0, "lc rgb '#000000' dt 4"},
    };

    std::ofstream steps(out + "/steps.csv"), per_epoch(out + "/epochs.csv"),
        curves(out + "/curves.dat"), accuracy(out + "/accuracy.dat"), table(out + "/results.md");
    steps << "optimizer,step,epoch,loss\n";
    per_epoch << "optimizer,epoch,train_loss,test_loss,test_accuracy,seconds\n";
    table << "| optimizer | batch | steps | final train loss | test accuracy | seconds |\n"
             "|---|---|---|---|---|---|\n";
    const double n = static_cast<double>(train.size());
    for (std::size_t vi = 0; vi < variants.size(); ++vi) {
      const Variant& v = variants[vi];
      nn::Sequential model = mlp();
      nn::load_state(model, init);
      const std::vector<tg::Tensor> params = model.parameters();
      auto opt = v.make(params);
      std::unique_ptr<optim::CosineAnnealingLR> sched;
      if (v.cosine) sched = std::make_unique<optim::CosineAnnealingLR>(*opt, epochs);
      data::DataLoader loader(train, {.batch_size = v.batch, .shuffle = true, .seed = 1});
      // The curve: mean loss over windows of 1000 samples, so batch sizes compare by data seen.
      std::vector<std::pair<double, double>> windows;
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
            windows.emplace_back(static_cast<double>(seen) / n, window_loss / window_n);
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
      // Each window with the mean of the five around it: the smoothed curve.
      for (std::size_t i = 0; i < windows.size(); ++i) {
        const std::size_t lo = i < 2 ? 0 : i - 2, hi = std::min(windows.size(), i + 3);
        double mean = 0;
        for (std::size_t j = lo; j < hi; ++j) mean += windows[j].second;
        curves << windows[i].first << ' ' << windows[i].second << ' '
               << mean / static_cast<double>(hi - lo) << '\n';
      }
      curves << "\n\n";  // gnuplot: one index block per optimizer
      double train_loss = 0, test_loss = 0;
      accuracy_and_loss(model, train, &train_loss);
      const double acc = accuracy_and_loss(model, test, &test_loss);
      accuracy << '"' << v.name << "\" " << 100 * acc << ' ' << vi + 1 << '\n';
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
    accuracy.close();
    fit_line(out);
    if (tg::train::plot_script(out + "/loss.png", figure(out, variants, train.size())))
      std::printf("wrote %s/loss.png, %s/results.md, %s/steps.csv, %s/epochs.csv\n", out.c_str(),
                  out.c_str(), out.c_str(), out.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "optimizer_comparison: %s\n", e.what());
    return 1;
  }
}
