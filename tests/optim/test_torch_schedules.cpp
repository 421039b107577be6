// Every schedule against torch 1.13's own learning rates: 30 epochs on two parameter groups
// (tests/reference/schedules.json, written by scripts/gen_torch_reference.py), to 1e-12 relative,
// with the momentum where a schedule cycles it; and the schedules torch steps otherwise.
#include <functional>
#include <memory>

#include "../torch_data.h"

namespace optim = tg::optim;

namespace {

using Options = nlohmann::json;

// The functions the generator gives LambdaLR and MultiplicativeLR, by name.
std::function<double(std::int64_t)> lambda(const std::string& name) {
  if (name == "inverse") return [](std::int64_t e) { return 1.0 / (1.0 + 0.5 * double(e)); };
  REQUIRE(name == "sawtooth");
  return [](std::int64_t e) { return e % 3 == 0 ? 0.8 : 0.95; };
}

std::unique_ptr<optim::LRScheduler> cyclic(optim::Optimizer& opt, const Options& o);
std::unique_ptr<optim::LRScheduler> one_cycle(optim::Optimizer& opt, const Options& o);
std::vector<std::shared_ptr<optim::LRScheduler>> children(optim::Optimizer& opt, const Options& o);

std::unique_ptr<optim::LRScheduler> make(const std::string& name, optim::Optimizer& opt,
                                         const Options& o) {
  const std::int64_t last = o.value("last_epoch", std::int64_t{-1});  // torch's resume argument
  if (name == "StepLR")
    return std::make_unique<optim::StepLR>(opt, o.at("step_size"), o.at("gamma"), last);
  if (name == "MultiStepLR")
    return std::make_unique<optim::MultiStepLR>(
        opt, o.at("milestones").get<std::vector<std::int64_t>>(), o.at("gamma"), last);
  if (name == "ExponentialLR")
    return std::make_unique<optim::ExponentialLR>(opt, o.at("gamma"), last);
  if (name == "CosineAnnealingLR")
    return std::make_unique<optim::CosineAnnealingLR>(opt, o.at("T_max"), o.value("eta_min", 0.0),
                                                      last);
  if (name == "LinearLR")
    return std::make_unique<optim::LinearLR>(opt, o.value("start_factor", 1.0 / 3),
                                             o.value("end_factor", 1.0), o.value("total_iters", 5),
                                             last);
  if (name == "ConstantLR")
    return std::make_unique<optim::ConstantLR>(opt, o.at("factor"), o.at("total_iters"), last);
  if (name == "PolynomialLR")
    return std::make_unique<optim::PolynomialLR>(opt, o.at("total_iters"), o.at("power"), last);
  if (name == "LambdaLR")
    return std::make_unique<optim::LambdaLR>(opt, lambda(o.at("lr_lambda")), last);
  if (name == "MultiplicativeLR")
    return std::make_unique<optim::MultiplicativeLR>(opt, lambda(o.at("lr_lambda")), last);
  if (name == "CosineAnnealingWarmRestarts")
    return std::make_unique<optim::CosineAnnealingWarmRestarts>(
        opt, o.at("T_0"), o.value("T_mult", 1), o.value("eta_min", 0.0), last);
  if (name == "CyclicLR") return cyclic(opt, o);
  if (name == "OneCycleLR") return one_cycle(opt, o);
  if (name == "ChainedScheduler")
    return std::make_unique<optim::ChainedScheduler>(children(opt, o));
  REQUIRE(name == "SequentialLR");
  return std::make_unique<optim::SequentialLR>(opt, children(opt, o),
                                               o.at("milestones").get<std::vector<std::int64_t>>());
}

// A number or one per group.
std::vector<double> per_group(const Options& o, std::size_t groups) {
  return o.is_array() ? o.get<std::vector<double>>() : std::vector<double>(groups, o.get<double>());
}

std::unique_ptr<optim::LRScheduler> cyclic(optim::Optimizer& opt, const Options& o) {
  optim::CyclicLROptions c;
  c.step_size_up = o.at("step_size_up");
  if (o.contains("step_size_down")) c.step_size_down = o.at("step_size_down").get<double>();
  const std::string mode = o.value("mode", "triangular");
  c.mode = mode == "triangular"    ? optim::CyclicLROptions::Mode::Triangular
           : mode == "triangular2" ? optim::CyclicLROptions::Mode::Triangular2
                                   : optim::CyclicLROptions::Mode::ExpRange;
  c.gamma = o.value("gamma", 1.0);
  c.cycle_momentum = o.value("cycle_momentum", true);
  c.base_momentum = o.value("base_momentum", 0.8);
  c.max_momentum = o.value("max_momentum", 0.9);
  c.last_epoch = o.value("last_epoch", std::int64_t{-1});
  const std::size_t n = opt.num_groups();
  return std::make_unique<optim::CyclicLR>(opt, per_group(o.at("base_lr"), n),
                                           per_group(o.at("max_lr"), n), c);
}

std::unique_ptr<optim::LRScheduler> one_cycle(optim::Optimizer& opt, const Options& o) {
  optim::OneCycleLROptions c;
  c.pct_start = o.value("pct_start", 0.3);
  c.anneal_strategy = o.value("anneal_strategy", "cos") == "cos"
                          ? optim::OneCycleLROptions::Anneal::Cos
                          : optim::OneCycleLROptions::Anneal::Linear;
  c.cycle_momentum = o.value("cycle_momentum", true);
  c.div_factor = o.value("div_factor", 25.0);
  c.final_div_factor = o.value("final_div_factor", 1e4);
  c.three_phase = o.value("three_phase", false);
  c.last_epoch = o.value("last_epoch", std::int64_t{-1});
  return std::make_unique<optim::OneCycleLR>(opt, per_group(o.at("max_lr"), opt.num_groups()),
                                             o.at("total_steps"), c);
}

std::vector<std::shared_ptr<optim::LRScheduler>> children(optim::Optimizer& opt, const Options& o) {
  std::vector<std::shared_ptr<optim::LRScheduler>> r;
  for (const Options& child : o.at("schedulers")) r.push_back(make(child[0], opt, child[1]));
  return r;
}

// The case's optimizer over two groups at lr 0.1 and 0.05, as the generator builds it.
std::unique_ptr<optim::Optimizer> two_groups(const std::string& name) {
  const auto a = tg::zeros({2}, {.requires_grad = true}),
             b = tg::zeros({2}, {.requires_grad = true});
  const std::vector<tg::Tensor> first{a}, second{b};
  if (name == "Adam") {
    auto opt = std::make_unique<optim::Adam>(first, optim::AdamOptions{.lr = 0.1});
    opt->add_param_group(second, {.lr = 0.05});
    return opt;
  }
  const double momentum = name == "SGD+momentum" ? 0.9 : 0;
  auto opt =
      std::make_unique<optim::SGD>(first, optim::SGDOptions{.lr = 0.1, .momentum = momentum});
  opt->add_param_group(second, {.lr = 0.05, .momentum = momentum});
  return opt;
}

void check_lrs(const optim::Optimizer& opt, const Options& want, std::size_t row) {
  for (std::size_t g = 0; g < 2; ++g) {
    const double w = want[row][g];
    INFO("row " << row << " group " << g << ": got " << opt.lr(g) << ", torch " << w);
    CHECK(std::abs(opt.lr(g) - w) <= 1e-12 * std::abs(w));
  }
}

// The check of a run's lrs (and momenta, where the case has them) row by row, stepping between.
void check_rows(optim::Optimizer& opt, optim::LRScheduler& s, const Options& c) {
  const Options& want = c.at("lrs");
  for (std::size_t e = 0; e < want.size(); ++e) {
    check_lrs(opt, want, e);
    if (c.contains("momenta"))
      for (std::size_t g = 0; g < 2; ++g) {
        const double m = c["momenta"][e][g];
        INFO("row " << e << " group " << g << ": momentum " << opt.momentum(g) << ", torch " << m);
        CHECK(std::abs(opt.momentum(g) - m) <= 1e-12 * std::abs(m));
      }
    s.step();
  }
}

}  // namespace

TEST_CASE("schedules: torch 1.13's learning rates, 30 epochs, two groups (schedules.json)") {
  const nlohmann::json cases = torch_data::cases("schedules.json");
  CHECK(cases.size() >= 29);
  std::size_t epoch_driven = 0;
  for (const nlohmann::json& c : cases) {
    if (c.contains("epochs") || c.contains("metrics")) continue;  // the tests below
    ++epoch_driven;
    const std::string name = c.at("schedule");
    INFO(name << " " << c.at("options").dump() << " on " << c.at("optimizer"));
    const auto opt = two_groups(c.at("optimizer"));
    const auto s = make(name, *opt, c.at("options"));
    check_rows(*opt, *s, c);
  }
  CHECK(epoch_driven >= 25);
}

TEST_CASE("schedules: resumed with last_epoch on the loaded optimizer, as torch (schedules.json)") {
  std::size_t seen = 0;
  for (const nlohmann::json& c : torch_data::cases("schedules.json")) {
    if (!c.contains("resumed")) continue;
    ++seen;
    const std::string name = c.at("schedule");
    INFO(name << " " << c.at("options").dump() << " on " << c.at("optimizer"));
    const Options& r = c.at("resumed");
    const std::int64_t at = r.at("at");
    // The first run, its optimizer's state saved after `at` steps.
    const auto first = two_groups(c.at("optimizer"));
    const auto s = make(name, *first, c.at("options"));
    for (std::int64_t i = 0; i < at; ++i) s->step();
    tg::Archive ar;
    first->save_state(ar);
    // A fresh optimizer loads it; the schedule is built with last_epoch.
    const auto opt = two_groups(c.at("optimizer"));
    opt->load_state(ar);
    Options options = c.at("options");
    options["last_epoch"] = at;
    const auto resumed = make(name, *opt, options);
    check_rows(*opt, *resumed, r);
  }
  CHECK(seen >= 22);  // every epoch-driven configuration but the composite ones
}

TEST_CASE("schedules: CosineAnnealingWarmRestarts at fractional epochs, as torch's step(epoch)") {
  std::size_t seen = 0;
  for (const nlohmann::json& c : torch_data::cases("schedules.json")) {
    if (!c.contains("epochs")) continue;
    ++seen;
    const auto opt = two_groups("SGD");
    const Options& o = c.at("options");
    optim::CosineAnnealingWarmRestarts s(*opt, o.at("T_0"), o.at("T_mult"), o.at("eta_min"));
    const auto epochs = c.at("epochs").get<std::vector<double>>();
    for (std::size_t i = 0; i < epochs.size(); ++i) {
      s.step(epochs[i]);
      check_lrs(*opt, c.at("lrs"), i);
    }
  }
  CHECK(seen == 1);
}

TEST_CASE("schedules: ReduceLROnPlateau on a fixed metric sequence, as torch") {
  std::size_t seen = 0;
  for (const nlohmann::json& c : torch_data::cases("schedules.json")) {
    if (!c.contains("metrics")) continue;
    ++seen;
    const Options& o = c.at("options");
    INFO(o.dump());
    optim::ReduceLROnPlateauOptions p;
    p.mode = o.value("mode", "min") == "min" ? optim::ReduceLROnPlateauOptions::Mode::Min
                                             : optim::ReduceLROnPlateauOptions::Mode::Max;
    p.factor = o.value("factor", 0.1);
    p.patience = o.value("patience", 10);
    p.threshold = o.value("threshold", 1e-4);
    p.threshold_mode = o.value("threshold_mode", "rel") == "rel"
                           ? optim::ReduceLROnPlateauOptions::ThresholdMode::Rel
                           : optim::ReduceLROnPlateauOptions::ThresholdMode::Abs;
    p.cooldown = o.value("cooldown", 0);
    p.min_lr = o.value("min_lr", 0.0);
    p.eps = o.value("eps", 1e-8);
    const auto opt = two_groups("SGD");
    optim::ReduceLROnPlateau s(*opt, p);
    const auto metrics = c.at("metrics").get<std::vector<double>>();
    for (std::size_t i = 0; i < metrics.size(); ++i) {
      s.step(metrics[i]);
      check_lrs(*opt, c.at("lrs"), i);
    }
  }
  CHECK(seen == 3);
}
