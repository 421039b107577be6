// Optimizer state and whole-run checkpoints: groups, state save/load, and a resumed run that
// continues bit-identically.
#include <filesystem>
#include <functional>
#include <map>
#include <random>

#include "reference.h"

namespace optim = tg::optim;
namespace nn = tg::nn;
namespace train = tg::train;

namespace {
std::string temp_file(const char* name) {
  return (std::filesystem::temp_directory_path() / (std::to_string(::getpid()) + name)).string();
}

// A run with every kind of state: two groups, AMSGrad buffers, a chained schedule, clipping and
// dropout drawing from the global generator.
struct Run {
  nn::Sequential net;
  std::unique_ptr<optim::Adam> opt;
  std::unique_ptr<optim::SequentialLR> sched;
  tg::Tensor x = tg::tensor({0.1, 0.2, 0.3, -0.4, 0.5, 0.6, 0.7, 0.8, -0.9, 1.0, 1.1, 1.2}, {4, 3});
  tg::Tensor y = tg::tensor({1, -1, 0.5, 0}, {4, 1});

  explicit Run(std::uint64_t seed) {
    tg::Generator gen(seed);
    net.push_back(nn::Linear(3, 5, true, &gen));
    net.push_back(nn::Tanh());
    net.push_back(nn::Dropout(0.2));
    net.push_back(nn::Linear(5, 1, true, &gen));
    auto named = net.named_parameters();
    opt = std::make_unique<optim::Adam>(optim::NamedParams(named.begin(), named.begin() + 2),
                                        optim::AdamOptions{.lr = 0.01, .amsgrad = true});
    opt->add_param_group(optim::NamedParams(named.begin() + 2, named.end()),
                         {.lr = 0.05, .weight_decay = 0.01});
    auto warm = std::make_shared<optim::LinearLR>(*opt, 0.5, 1.0, 3);
    auto cos = std::make_shared<optim::CosineAnnealingLR>(*opt, 6);
    sched = std::make_unique<optim::SequentialLR>(
        *opt, std::vector<std::shared_ptr<optim::LRScheduler>>{warm, cos},
        std::vector<std::int64_t>{3});
  }
  void train(int steps) {
    for (int i = 0; i < steps; ++i) {
      tg::Tensor loss = nn::functional::mse_loss(net(x), y);
      opt->zero_grad();
      loss.backward();
      optim::clip_grad_norm_(net.parameters(), 0.5);
      opt->step();
      sched->step();
    }
  }
  std::vector<std::vector<double>> params() const {
    std::vector<std::vector<double>> r;
    for (const tg::Tensor& p : net.parameters()) r.push_back(p.to_vector<double>());
    return r;
  }
};
}  // namespace

TEST_CASE("resume: a run resumed from a checkpoint continues bit-identically") {
  const std::string path = temp_file("resume.tg");
  tg::manual_seed(100);
  Run a(1);
  a.train(5);
  train::save_checkpoint(path, a.net, *a.opt, a.sched.get(), {.epoch = 2, .step = 5});
  a.train(7);

  tg::manual_seed(999);  // a different generator state, to be restored from the file
  Run b(2);
  const train::Progress p = train::load_checkpoint(path, b.net, *b.opt, b.sched.get());
  std::filesystem::remove(path);
  CHECK(p.epoch == 2);
  CHECK(p.step == 5);
  b.train(7);
  CHECK(a.params() == b.params());  // exact equality, not approximate
  CHECK(a.opt->lr(0) == b.opt->lr(0));
  CHECK(a.opt->lr(1) == b.opt->lr(1));
  CHECK(a.sched->last_epoch() == b.sched->last_epoch());
  CHECK(a.opt->state(0).step == 12);
  CHECK(b.opt->state(0).step == 12);
}

// Runs `first` steps of a fresh optimizer on the quartic, saves its state, runs `second` more;
// then loads the state into another optimizer over a copy of the saved parameters and runs
// `second` steps: both must end bit-identical.
template <typename Opt, typename Options>
void check_resume(const Options& o, int first = 5, int second = 6) {
  INFO(Opt::kName);
  const auto run = [](Opt& opt, const tg::Tensor& w, int steps) {
    for (int i = 0; i < steps; ++i) {
      opt.zero_grad();
      Quartic().loss(w).backward();
      opt.step();
    }
  };
  tg::Tensor a = Quartic().start();
  Opt opt_a({a}, o);
  run(opt_a, a, first);
  tg::Archive ar;
  opt_a.save_state(ar);
  tg::Tensor b = a.detach().clone().requires_grad_();
  run(opt_a, a, second);
  Opt opt_b({b}, o);
  opt_b.load_state(ar);
  run(opt_b, b, second);
  CHECK(a.to_vector<double>() == b.to_vector<double>());
  CHECK(opt_b.state(0).step == first + second);
  CHECK(opt_a.state(0).scalars == opt_b.state(0).scalars);
}

TEST_CASE("resume: every optimizer continues bit-identically from its saved state") {
  check_resume<optim::SGD>(optim::SGDOptions{.lr = 0.05, .momentum = 0.9, .nesterov = true});
  check_resume<optim::Adagrad>(optim::AdagradOptions{.lr = 0.1, .lr_decay = 0.05});
  check_resume<optim::RMSprop>(
      optim::RMSpropOptions{.lr = 0.01, .momentum = 0.5, .centered = true});
  check_resume<optim::Adam>(optim::AdamOptions{.lr = 0.05, .amsgrad = true});
  check_resume<optim::AdamW>(optim::AdamWOptions{.lr = 0.05, .amsgrad = true});
  check_resume<optim::Adamax>(optim::AdamaxOptions{.lr = 0.05});
  check_resume<optim::Adadelta>(optim::AdadeltaOptions{});
  check_resume<optim::NAdam>(optim::NAdamOptions{.lr = 0.05});
  check_resume<optim::RAdam>(optim::RAdamOptions{.lr = 0.05});  // crosses rho_t > 5 at step 6
  check_resume<optim::Rprop>(optim::RpropOptions{});
  check_resume<optim::ASGD>(optim::ASGDOptions{.lr = 0.05, .t0 = 3});  // averaging from step 4
}

TEST_CASE("resume: a mismatched checkpoint changes nothing") {
  const std::string path = temp_file("mismatch.tg");
  Run a(1);
  a.train(3);
  train::save_checkpoint(path, a.net, *a.opt, a.sched.get());
  Run c(3);
  optim::SGD other(c.net.parameters(), {.lr = 0.1});
  const auto before = c.params();
  CHECK_THROWS_WITH_AS(train::load_checkpoint(path, c.net, other, nullptr),
                       doctest::Contains("SGD: cannot load state: the checkpoint holds Adam state"),
                       tg::ValueError);
  CHECK(c.params() == before);
  std::filesystem::remove(path);
}

TEST_CASE("optimizer: state is named by parameter and saved with every buffer") {
  Run a(1);
  a.train(2);
  tg::Archive ar;
  a.opt->save_state(ar);
  CHECK(ar.get_text("optim.type") == "Adam");
  CHECK(ar.get("optim.state.0.weight.step").item() == 2);
  CHECK(ar.get("optim.state.0.weight.exp_avg").shape() == tg::Shape{5, 3});
  CHECK(ar.contains("optim.state.0.weight.max_exp_avg_sq"));        // AMSGrad group
  CHECK_FALSE(ar.contains("optim.state.3.weight.max_exp_avg_sq"));  // the other group has none
  CHECK(ar.get("optim.group.1.lr").item() == a.opt->lr(1));
}

TEST_CASE("optimizer: parameters without a gradient are skipped and keep no state") {
  tg::Tensor used = leaf({2}), unused = leaf({2}, 8);
  optim::Adam opt(std::vector<tg::Tensor>{used, unused}, {.lr = 0.1});
  const auto before = unused.to_vector<double>();
  (used * used).sum().backward();
  opt.step();
  CHECK(unused.to_vector<double>() == before);
  CHECK(opt.state(0).step == 1);
  CHECK(opt.state(1).step == 0);
  CHECK_FALSE(opt.state(1).buffers[0].defined());
}

TEST_CASE("optimizer: zero_grad and per-group learning rates") {
  tg::Tensor a = leaf_of({1.0}), b = leaf_of({1.0});
  optim::SGD opt(std::vector<tg::Tensor>{a}, {.lr = 0.1});
  opt.add_param_group(std::vector<tg::Tensor>{b}, {.lr = 0.01});
  (a * 2.0 + b * 2.0).sum().backward();
  opt.step();
  check_values(a, {1 - 0.2});
  check_values(b, {1 - 0.02});
  opt.zero_grad();
  CHECK(a.grad().item() == 0);
  CHECK(opt.num_groups() == 2);
  opt.set_lr(0.5, 1);
  CHECK(opt.lr(1) == 0.5);
  CHECK_THROWS_AS(opt.lr(2), tg::ValueError);
  CHECK_THROWS_WITH_AS(opt.add_param_group(std::vector<tg::Tensor>{a}, {.lr = 0.1}),
                       doctest::Contains("appears twice"), tg::ValueError);
}

namespace {
// Everything a load may change: model, optimizer and schedule state, and the global generator.
struct Snapshot {
  std::map<std::string, std::vector<double>> values;
  std::mt19937_64 rng;
  bool operator==(const Snapshot&) const = default;
};
Snapshot snapshot(const Run& r) {
  tg::Archive ar;
  nn::save_state(r.net, ar);
  r.opt->save_state(ar);
  r.sched->save_state(ar);
  Snapshot s{{}, tg::default_generator().engine()};
  for (const std::string& name : ar.names())
    if (ar.is_tensor(name)) s.values[name] = ar.get(name).to_vector<double>();
  return s;
}

// ar less one entry.
tg::Archive without(const tg::Archive& ar, const std::string& dropped) {
  tg::Archive r;
  for (const std::string& n : ar.names())
    if (n != dropped) {
      if (ar.is_tensor(n))
        r.put(n, ar.get(n));
      else
        r.put_text(n, ar.get_text(n));
    }
  return r;
}
}  // namespace

TEST_CASE("load_checkpoint: a bad entry anywhere is named and changes nothing") {
  TempDir dir;
  const std::string good = dir.file("good.tg"), bad = dir.file("bad.tg");
  Run a(1);
  a.train(3);
  train::save_checkpoint(good, a.net, *a.opt, a.sched.get(), {.epoch = 3, .step = 12});
  struct Corruption {
    const char* what;
    std::function<void(tg::Archive&)> apply;
    const char* message;
  };
  auto f64 = [](double v) { return tg::scalar_tensor(v, {.dtype = tg::kFloat64}); };
  const Corruption cases[] = {
      {"garbage RNG text",
       [](tg::Archive& ar) { ar.put_text("progress.rng", "12 34 not a state"); },
       "Generator::set_state: not a generator state"},
      {"RNG stored as a tensor", [&](tg::Archive& ar) { ar.put("progress.rng", f64(1)); },
       "entry 'progress.rng' is a tensor, not a text"},
      {"epoch with two values",
       [](tg::Archive& ar) {
         ar.put("progress.epoch", tg::tensor({1, 2}));
       },
       "entry 'progress.epoch' must hold one value, holds 2"},
      {"epoch of 1e300", [&](tg::Archive& ar) { ar.put("progress.epoch", f64(1e300)); },
       "entry 'progress.epoch': 1e+300 is outside int64's range"},
      {"epoch of 2.5", [&](tg::Archive& ar) { ar.put("progress.epoch", f64(2.5)); },
       "entry 'progress.epoch': 2.5 is not an integer"},
      {"negative step", [&](tg::Archive& ar) { ar.put("progress.step", f64(-4)); },
       "progress is negative"},
      {"optimizer step of 1e300",
       [&](tg::Archive& ar) { ar.put("optim.state.0.weight.step", f64(1e300)); },
       "entry 'optim.state.0.weight.step': 1e+300 is outside int64's range"},
      {"missing initial_lr", [](tg::Archive& ar) { ar = without(ar, "optim.group.0.initial_lr"); },
       "no initial learning rate for group 0"},
      {"lr with two values",
       [](tg::Archive& ar) {
         ar.put("optim.group.1.lr", tg::tensor({0.1, 0.2}));
       },
       "entry 'optim.group.1.lr' must hold one value"},
      {"negative lr", [&](tg::Archive& ar) { ar.put("optim.group.1.lr", f64(-0.1)); },
       "a learning rate must be >= 0"},
      {"schedule epoch of NaN", [&](tg::Archive& ar) { ar.put("sched.1.last_epoch", f64(NAN)); },
       "entry 'sched.1.last_epoch': nan is not an integer"},
      {"schedule with a wrong group count",
       [](tg::Archive& ar) { ar.put("sched.0.last_lr", tg::tensor({0.1})); },
       "the checkpoint has 1 groups, the optimizer 2"},
      {"negative base learning rate",
       [](tg::Archive& ar) {
         ar.put("sched.base_lrs", tg::tensor({0.01, -1}, {}, {.dtype = tg::kFloat64}));
       },
       "entry 'sched.base_lrs' holds the learning rate -1"},
      {"parameter of the wrong shape",
       [](tg::Archive& ar) { ar.put("model.3.bias", tg::zeros({2})); },
       "parameter '3.bias' is [2] float32 in the checkpoint but [1] float32"},
  };
  Run b(2);
  b.train(2);
  tg::manual_seed(99);
  const auto before = snapshot(b);
  for (const Corruption& c : cases) {
    INFO(c.what);
    tg::Archive ar = tg::Archive::load(good);
    c.apply(ar);
    ar.save(bad);
    CHECK_THROWS_WITH_AS(train::load_checkpoint(bad, b.net, *b.opt, b.sched.get()),
                         doctest::Contains(c.message), tg::ValueError);
    CHECK_THROWS_WITH_AS(train::load_checkpoint(bad, b.net, *b.opt, b.sched.get()),
                         doctest::Contains("bad.tg"), tg::ValueError);
    CHECK(snapshot(b) == before);
  }
  const train::Progress p = train::load_checkpoint(good, b.net, *b.opt, b.sched.get());
  CHECK(p.epoch == 3);
  CHECK(p.step == 12);
  CHECK(snapshot(b) == snapshot(a));
}

TEST_CASE("optimizer: load_state checks every group before setting any learning rate") {
  Run a(1);
  a.train(2);
  tg::Archive ar;
  a.opt->save_state(ar);
  Run b(2);
  const double lr0 = b.opt->lr(0), lr1 = b.opt->lr(1);
  // group 1's initial_lr is missing: group 0 must not be applied first
  const tg::Archive partial = without(ar, "optim.group.1.initial_lr");
  CHECK_THROWS_WITH_AS(
      b.opt->load_state(partial),
      doctest::Contains("Adam: cannot load state: no initial learning rate for group 1"),
      tg::ValueError);
  CHECK(b.opt->lr(0) == lr0);
  CHECK(b.opt->lr(1) == lr1);
  CHECK(b.opt->state(0).step == 0);
  ar.put("optim.group.1.initial_lr", tg::tensor({0.1, 0.2}, {}, {.dtype = tg::kFloat64}));
  CHECK_THROWS_AS(b.opt->load_state(ar), tg::ValueError);
  CHECK(b.opt->lr(0) == lr0);
}

TEST_CASE("checkpoints: a count too large to count on from is refused, and changes nothing") {
  constexpr std::int64_t kHuge = INT64_MAX;
  const auto huge = tg::from_vector(std::vector<std::int64_t>{kHuge});
  Run a(1);
  a.train(2);
  tg::Archive ar;
  a.opt->save_state(ar);
  a.sched->save_state(ar);
  Run b(2);
  tg::Archive bad_step = ar;
  bad_step.put("optim.state.0.weight.step", huge);
  CHECK_THROWS_WITH_AS(b.opt->load_state(bad_step),
                       doctest::Contains("step' is 9223372036854775807; at most 2^62"),
                       tg::ValueError);
  CHECK(b.opt->state(0).step == 0);
  tg::Archive bad_epoch = ar;
  bad_epoch.put("sched.last_epoch", huge);
  CHECK_THROWS_WITH_AS(b.sched->load_state(bad_epoch),
                       doctest::Contains("last_epoch' is 9223372036854775807"), tg::ValueError);
  CHECK(b.sched->last_epoch() == 0);
}

TEST_CASE(
    "load_checkpoint: every truncation and every flipped bit is refused and changes nothing") {
  TempDir dir;
  Run a(1);
  a.train(2);
  train::save_checkpoint(dir.file("run.tg"), a.net, *a.opt, a.sched.get(), {.epoch = 2, .step = 2});
  Run b(2);
  b.train(1);
  const auto before = snapshot(b);
  const std::string bad = dir.file("bad.tg");
  CHECK(sweep_corruptions(
            bytes_of(dir.file("run.tg")), bad,
            [&] { train::load_checkpoint(bad, b.net, *b.opt, b.sched.get()); },
            [&] { return snapshot(b) == before; }) == 0);
}
