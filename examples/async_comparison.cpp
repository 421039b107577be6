// Synchronous against asynchronous training, the seeds' question answered with numbers: the same
// model from the same initial weights, trained on the same samples by data-parallel SGD
// (DistributedDataParallel), local SGD (averaging every 4 and 16 steps), a parameter server
// (staleness 0, 4, unbounded) and Hogwild! (2 threads), on the seeds' line y = 4 + 3x + noise
// and on the Fashion-MNIST MLP, each also with one worker slowed by a sleep per step.
//
// One run a call (the MPI forms under mpiexec: 2 ranks, 3 for the parameter server's server
// and two workers), each writing <out>/<problem>/<label>.{curve,run,tg}; then --report reads
// them all and writes <out>/results.md and <out>/async.png. scripts/compare_async.sh (make
// compare-async) runs the whole experiment.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <tapegrad/tapegrad.hpp>
#include <thread>

namespace tg = tapegrad;
namespace nn = tg::nn;
namespace optim = tg::optim;
namespace data = tg::data;
namespace dist = tg::dist;
using Clock = std::chrono::steady_clock;

namespace {

struct Settings {
  std::string problem = "mlp", method = "sync", label, out = "async-comparison";
  std::string data_dir = "data/fashion-mnist";
  std::int64_t period = 4, staleness = -1, train_limit = 0;
  int epochs = 0;      // 0: the problem's own
  double slow_ms = 0;  // the last worker sleeps this long in each step
};

// A problem: its data, its model, its loss, its optimizer and its batch per worker.
struct Problem {
  std::shared_ptr<data::TensorDataset> train, eval, test;
  std::int64_t batch = 32;
  int epochs = 2;
  double lr = 0.02, momentum = 0.9;
  bool classes = true;
  double floor = 0;  // the line: the least-squares line's MSE, which no method can go below

  std::shared_ptr<nn::Module> model() const {
    tg::manual_seed(0);  // every method starts from the same weights
    if (!classes) return std::make_shared<nn::Linear>(1, 1);
    return std::make_shared<nn::Sequential>(nn::Linear(784, 128), nn::ReLU(), nn::Linear(128, 10));
  }
  tg::Tensor loss(const tg::Tensor& out, const tg::Tensor& y) const {
    return classes ? nn::functional::cross_entropy(out, y) : nn::functional::mse_loss(out, y);
  }
  std::unique_ptr<optim::Optimizer> optimizer(nn::Module& m) const {
    return std::make_unique<optim::SGD>(m.parameters(),
                                        optim::SGDOptions{.lr = lr, .momentum = momentum});
  }
  double eval_loss(nn::Module& m, const data::TensorDataset& ds) const {
    tg::NoGradGuard no_grad;
    return loss(m(ds.inputs()), ds.targets()).item();
  }
  double accuracy(nn::Module& m) const {
    if (!classes) return std::nan("");
    tg::NoGradGuard no_grad;
    const tg::Tensor logits = m(test->inputs());
    return tg::eq(tg::argmax(logits, 1), test->targets()).to(tg::kFloat32).mean().item();
  }
  std::int64_t budget() const { return epochs * train->size(); }
};

Problem make_problem(const Settings& s) {
  Problem p;
  if (s.problem == "line") {
    // The seeds' data: 1000 points y = 4 + 3x + noise, x in [0, 2).
    tg::Generator gen(42);
    const tg::Tensor x = tg::rand({1000, 1}, {}, &gen) * 2.0f;
    const tg::Tensor y = x * 3.0f + 4.0f + tg::randn({1000, 1}, {}, &gen);
    p.train = p.eval = p.test = std::make_shared<data::TensorDataset>(x, y);
    // The least-squares line from the normal equations, in double.
    const std::vector<float> xs = x.to_vector<float>(), ys = y.to_vector<float>();
    double sx = 0, sy = 0, sxx = 0, sxy = 0, n = static_cast<double>(xs.size());
    for (std::size_t i = 0; i < xs.size(); ++i) {
      sx += xs[i];
      sy += ys[i];
      sxx += static_cast<double>(xs[i]) * xs[i];
      sxy += static_cast<double>(xs[i]) * ys[i];
    }
    const double w = (n * sxy - sx * sy) / (n * sxx - sx * sx), b = (sy - w * sx) / n;
    for (std::size_t i = 0; i < xs.size(); ++i) {
      const double r = ys[i] - (b + w * xs[i]);
      p.floor += r * r / n;
    }
    p.batch = 10;
    p.epochs = 10;
    p.lr = 0.02;
    p.momentum = 0;
    p.classes = false;
  } else if (s.problem == "mlp") {
    std::string dir = s.data_dir;
    if (!std::filesystem::exists(dir) &&
        std::filesystem::exists("/usr/share/datasets/fashion-mnist"))
      dir = "/usr/share/datasets/fashion-mnist";
    const data::MNISTOptions norm{.mean = 0.2860, .std = 0.3530};
    data::MNISTOptions train_o = norm;
    train_o.limit = s.train_limit;
    p.train = std::make_shared<data::MNIST>(dir, data::Split::Train, train_o);
    p.test = std::make_shared<data::MNIST>(dir, data::Split::Test, norm);
    p.eval = p.test;
  } else {
    throw tg::ValueError("async_comparison: --problem is line or mlp, got " + s.problem);
  }
  if (s.epochs > 0) p.epochs = s.epochs;
  return p;
}

// The curve's points: parameters copied at sample counts while training, evaluated afterwards so
// that evaluating costs the run no time.
struct Curve {
  std::int64_t every = 1, next = 0;
  std::vector<std::int64_t> samples;
  std::vector<double> seconds;
  std::vector<std::vector<tg::Tensor>> params;

  void at(std::int64_t n, double t, const nn::Module& m, bool force = false) {
    if (n < next && !force) return;
    samples.push_back(n);
    seconds.push_back(t);
    std::vector<tg::Tensor> copy;
    for (const tg::Tensor& p : m.parameters()) copy.push_back(p.detach().clone());
    params.push_back(std::move(copy));
    while (next <= n) next += every;
  }
};

struct Outcome {
  std::int64_t samples = 0, updates = 0;
  double seconds = 0;
};

void sleep_ms(double ms) {
  if (ms > 0) std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(ms));
}

double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// DistributedDataParallel (period 0) or LocalSGD on every rank; rank 0 keeps the curve.
Outcome ranks_run(const Settings& s, const Problem& p, nn::Module& net,
                  const std::shared_ptr<nn::Module>& shared, Curve& curve, bool local) {
  const int rank = dist::rank(), world = dist::world_size();
  const bool slow = rank == world - 1 && s.slow_ms > 0;
  data::DataLoader loader(
      *p.train,
      {.batch_size = p.batch, .shuffle = true, .seed = 1, .num_replicas = world, .rank = rank});
  std::unique_ptr<dist::DistributedDataParallel> ddp;
  std::unique_ptr<dist::LocalSGD> averager;
  nn::Module* forward = &net;
  if (!local) {
    ddp = std::make_unique<dist::DistributedDataParallel>(shared);
    forward = ddp.get();
  }
  auto opt = p.optimizer(net);
  if (local)
    averager =
        std::make_unique<dist::LocalSGD>(net, *opt, dist::LocalSGDOptions{.period = s.period});
  Outcome o;
  const auto t0 = Clock::now();
  if (rank == 0) curve.at(0, 0, net, true);
  for (int e = 0; e < p.epochs; ++e)
    for (auto& [x, y] : loader) {
      opt->zero_grad();
      p.loss((*forward)(x), y).backward();
      opt->step();
      if (slow) sleep_ms(s.slow_ms);
      const bool averaged = !local || averager->step();
      ++o.updates;
      o.samples += x.size(0) * world;
      if (rank == 0 && averaged) curve.at(o.samples, since(t0), net);
    }
  if (local && averager->steps() % s.period != 0) averager->average();
  o.seconds = since(t0);
  if (rank == 0) curve.at(o.samples, o.seconds, net, true);
  return o;
}

// The parameter server: rank 0 serves and keeps the curve, the other ranks work until the
// budget is spent.
Outcome server_run(const Settings& s, const Problem& p, nn::Module& net, Curve& curve) {
  dist::ParameterServer ps(net, {.max_staleness = s.staleness, .max_samples = p.budget()});
  Outcome o;
  if (ps.is_server()) {
    auto opt = p.optimizer(net);
    curve.at(0, 0, net, true);
    const dist::ServerStats st = ps.serve(
        *opt, [&](const dist::ServerUpdate& u) { curve.at(u.total_samples, u.seconds, net); });
    o = {st.samples, st.updates, st.seconds};
    curve.at(o.samples, o.seconds, net, true);
    std::printf("  server: %lld updates, staleness mean %.2f max %lld, %lld pulls held\n",
                static_cast<long long>(st.updates), st.mean_staleness,
                static_cast<long long>(st.max_staleness), static_cast<long long>(st.held_pulls));
    return o;
  }
  const bool slow = dist::rank() == dist::world_size() - 1 && s.slow_ms > 0;
  data::DataLoader loader(*p.train, {.batch_size = p.batch,
                                     .shuffle = true,
                                     .seed = 1,
                                     .num_replicas = ps.num_workers(),
                                     .rank = ps.worker_index(),
                                     .check_replicas = false});
  for (;;)
    for (auto& [x, y] : loader) {
      if (ps.pull() < 0) {
        ps.finish();
        return o;
      }
      net.zero_grad();
      tg::Tensor loss = p.loss(net(x), y);
      loss.backward();
      if (slow) sleep_ms(s.slow_ms);
      ps.push(loss.item(), x.size(0));
    }
}

// Hogwild! on 2 threads, the budget shared.
Outcome hogwild_run(const Settings& s, const Problem& p, nn::Module& net, Curve& curve) {
  std::mutex mutex;
  curve.at(0, 0, net, true);
  const tg::train::HogwildResult r = tg::train::hogwild(
      net, [&] { return p.model(); }, [&](nn::Module& m) { return p.optimizer(m); }, *p.train,
      {.workers = 2,
       .epochs = 1 << 20,
       .max_samples = p.budget(),
       .batch_size = p.batch,
       .seed = 1,
       .loss = [&](const tg::Tensor& out, const tg::Tensor& y) { return p.loss(out, y); },
       .on_step =
           [&](const tg::train::HogwildStep& st) {
             if (st.worker == 1) sleep_ms(s.slow_ms);
             const std::lock_guard lock(mutex);
             curve.at(st.samples, st.seconds, *st.replica);
           }});
  std::int64_t updates = 0;
  for (std::int64_t n : r.worker_steps) updates += n;
  curve.at(r.samples, r.seconds, net, true);
  return {r.samples, updates, r.seconds};
}

// One method's run; rank 0 (or the one process) writes what it measured.
void run(const Settings& s, int& argc, char**& argv) {
  const Problem p = make_problem(s);
  const bool mpi = s.method != "hogwild";
  std::unique_ptr<dist::Context> context;
  if (mpi) context = std::make_unique<dist::Context>(argc, argv);
  const std::shared_ptr<nn::Module> net = p.model();
  Curve curve;
  curve.every = std::max<std::int64_t>(1, p.budget() / 60);
  Outcome o;
  if (s.method == "sync" || s.method == "local")
    o = ranks_run(s, p, *net, net, curve, s.method == "local");
  else if (s.method == "ps")
    o = server_run(s, p, *net, curve);
  else if (s.method == "hogwild")
    o = hogwild_run(s, p, *net, curve);
  else
    throw tg::ValueError("async_comparison: --method is sync, local, ps or hogwild, got " +
                         s.method);
  if (mpi && dist::rank() != 0) return;
  const std::string dir = s.out + "/" + s.problem;
  std::filesystem::create_directories(dir);
  std::ofstream c(dir + "/" + s.label + ".curve");
  const std::shared_ptr<nn::Module> probe = p.model();
  for (std::size_t k = 0; k < curve.samples.size(); ++k) {
    const std::vector<tg::Tensor> ps = probe->parameters();
    for (std::size_t i = 0; i < ps.size(); ++i) ps[i].set_data(curve.params[k][i]);
    c << curve.samples[k] << ' ' << curve.seconds[k] << ' '
      << p.eval_loss(*probe, *p.eval) - p.floor << '\n';
  }
  std::ofstream(dir + "/" + s.label + ".run")
      << o.samples << ' ' << o.updates << ' ' << o.seconds << ' ' << s.slow_ms << '\n';
  net->save(dir + "/" + s.label + ".tg");
  std::printf("%s %s: %lld samples, %lld updates, %.2f s, eval loss %.4f\n", s.problem.c_str(),
              s.label.c_str(), static_cast<long long>(o.samples), static_cast<long long>(o.updates),
              o.seconds, p.eval_loss(*net, *p.eval));
}

// The runs in the order the table and the figure show them.
const std::vector<std::string> kLabels = {"sync",         "local4",  "local16",     "ps0",
                                          "ps4",          "ps",      "hogwild",     "sync-slow",
                                          "local16-slow", "ps-slow", "hogwild-slow"};
std::string describe(const std::string& label) {
  static const std::map<std::string, std::string> names = {
      {"sync", "synchronous (DDP, 2 ranks)"},
      {"local4", "local SGD, k = 4"},
      {"local16", "local SGD, k = 16"},
      {"ps0", "parameter server, staleness 0"},
      {"ps4", "parameter server, staleness <= 4"},
      {"ps", "parameter server, unbounded"},
      {"hogwild", "Hogwild! (2 threads)"}};
  const bool slow = label.ends_with("-slow");
  const std::string base = slow ? label.substr(0, label.size() - 5) : label;
  return names.at(base) + (slow ? ", one worker slowed" : "");
}

std::vector<double> flat(const nn::Module& m) {
  std::vector<double> v;
  for (const tg::Tensor& p : m.parameters())
    for (double x : p.to(tg::kFloat64).to_vector<double>()) v.push_back(x);
  return v;
}

// The table (results.md) and the figure (async.png) from every run's files.
void report(const Settings& s) {
  std::ofstream table(s.out + "/results.md");
  std::ostringstream plots;
  for (const std::string problem : {"line", "mlp"}) {
    Settings ps = s;
    ps.problem = problem;
    const Problem p = make_problem(ps);
    const std::string dir = s.out + "/" + problem;
    const std::shared_ptr<nn::Module> sync = p.model();
    sync->load(dir + "/sync.tg");
    const std::vector<double> ref = flat(*sync);
    double ref_norm = 0;
    for (double x : ref) ref_norm += x * x;
    table << "\n**" << (p.classes ? "Fashion-MNIST MLP (784-128-10)" : "the line y = 4 + 3x")
          << "**\n\n| method | samples | updates | seconds | final loss | "
          << (p.classes ? "test accuracy" : "above least squares")
          << " | distance from synchronous |\n|---|---|---|---|---|---|---|\n";
    for (const std::string& label : kLabels) {
      std::ifstream in(dir + "/" + label + ".run");
      std::int64_t samples = 0, updates = 0;
      double seconds = 0, slow = 0;
      if (!(in >> samples >> updates >> seconds >> slow))
        throw tg::IoError("async_comparison: no run " + dir + "/" + label + ".run");
      const std::shared_ptr<nn::Module> m = p.model();
      m->load(dir + "/" + label + ".tg");
      const std::vector<double> v = flat(*m);
      double d = 0;
      for (std::size_t i = 0; i < v.size(); ++i) d += (v[i] - ref[i]) * (v[i] - ref[i]);
      char row[512];
      const double loss = p.eval_loss(*m, *p.eval);
      std::snprintf(row, sizeof row, "| %s | %lld | %lld | %.2f | %.4f | ", describe(label).c_str(),
                    static_cast<long long>(samples), static_cast<long long>(updates), seconds,
                    loss);
      table << row;
      if (p.classes)
        std::snprintf(row, sizeof row, "%.2f%% | ", 100 * p.accuracy(*m));
      else
        std::snprintf(row, sizeof row, "%.2g | ", loss - p.floor);
      table << row;
      std::snprintf(row, sizeof row, "%.3g |\n", std::sqrt(d / ref_norm));
      table << row;
    }
  }
  const std::vector<std::string> styles = {"lc rgb '#000000' dt 1 lw 2", "lc rgb '#1b9e77' dt 1",
                                           "lc rgb '#1b9e77' dt 2",      "lc rgb '#d95f02' dt 3",
                                           "lc rgb '#d95f02' dt 2",      "lc rgb '#d95f02' dt 1",
                                           "lc rgb '#7570b3' dt 1 lw 2"};
  auto panel = [&](const std::string& problem, bool by_time, bool slowed,
                   const std::string& title) {
    plots << "set title '" << title << "'\nset xlabel '" << (by_time ? "seconds" : "samples seen")
          << "'\nset ylabel '"
          << (problem == "line" ? "MSE above the least-squares line (log)" : "test loss") << "'\n"
          << (problem == "line" ? "set logscale y\nset yrange [1e-6:100]\nset format y '%g'\n"
                                : "unset logscale y\nset yrange [0.3:1]\n")
          << "plot ";
    bool first = true;
    for (std::size_t i = 0; i < 7; ++i) {
      const std::string label = kLabels[i] + (slowed ? "-slow" : "");
      if (slowed && std::find(kLabels.begin(), kLabels.end(), label) == kLabels.end()) continue;
      plots << (first ? "" : ", ") << "'" << s.out << "/" << problem << "/" << label
            << ".curve' using " << (by_time ? 2 : 1) << ":3 with lines " << styles[i] << " title '"
            << describe(label) << "'";
      first = false;
    }
    plots << "\n";
  };
  std::ostringstream script;
  script << "set terminal pngcairo size 1200,1350 font ',9'\nset output '" << s.out
         << "/async.png'\nset multiplot layout 3,2 title 'Synchronous and asynchronous SGD, 2 "
            "workers on 2 cores'\nset key top right\nset grid\n";
  panel("line", false, false, "the line: loss by samples");
  panel("line", true, false, "the line: loss by wall time");
  panel("mlp", false, false, "Fashion-MNIST MLP: loss by samples");
  panel("mlp", true, false, "Fashion-MNIST MLP: loss by wall time");
  panel("mlp", false, true, "one worker slowed: loss by samples");
  panel("mlp", true, true, "one worker slowed: loss by wall time");
  script << plots.str() << "unset multiplot\n";
  table.close();
  if (tg::train::plot_script(s.out + "/async.png", script.str()))
    std::printf("wrote %s/async.png and %s/results.md\n", s.out.c_str(), s.out.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Synchronous and asynchronous SGD compared: one run, or --report"};
  Settings s;
  bool do_report = false;
  app.add_option("--problem", s.problem, "line or mlp")->check(CLI::IsMember({"line", "mlp"}));
  app.add_option("--method", s.method, "sync, local, ps or hogwild")
      ->check(CLI::IsMember({"sync", "local", "ps", "hogwild"}));
  app.add_option("--label", s.label, "the run's name in <out>/<problem>/");
  app.add_option("--period", s.period, "local SGD: steps between averagings");
  app.add_option("--staleness", s.staleness, "parameter server: the bound (-1: none)");
  app.add_option("--slow-ms", s.slow_ms, "the last worker sleeps this long in each step")
      ->check(CLI::Range(0.0, 60000.0));
  app.add_option("--out", s.out);
  app.add_option("--data", s.data_dir);
  app.add_option("--epochs", s.epochs, "0: the problem's own (line 10, mlp 2)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--train-limit", s.train_limit)->check(CLI::NonNegativeNumber);
  app.add_flag("--report", do_report, "read every run and write results.md and async.png");
  CLI11_PARSE(app, argc, argv);
  if (s.label.empty()) s.label = s.method;
  try {
    if (do_report)
      report(s);
    else
      run(s, argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "async_comparison: %s\n", e.what());
    return 1;
  }
}
