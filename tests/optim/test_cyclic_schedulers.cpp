// CosineAnnealingWarmRestarts, CyclicLR, OneCycleLR and ChainedScheduler: their documented
// shapes, the momentum they cycle, bad arguments, and resuming mid-cycle (ConstantLR,
// PolynomialLR and MultiplicativeLR resume there too). Torch's own numbers
// for all four are in test_torch_schedules.cpp.
#include <cmath>
#include <memory>
#include <numbers>

#include "../core/helpers.h"

namespace optim = tg::optim;

namespace {
struct Setup {
  tg::Tensor w = leaf({2});
  optim::SGD opt{{w}, {.lr = 0.1, .momentum = 0.9}};
};
}  // namespace

TEST_CASE("cosine_annealing_warm_restarts: cycles of 2, 4, 8 epochs, restarting at the base") {
  Setup st;
  optim::CosineAnnealingWarmRestarts s(st.opt, 2, 2, 0.01);
  const int restarts[] = {0, 2, 6, 14};  // T_0 (2^n - 1)
  for (int e = 0; e < 20; ++e) {
    const int start = *std::prev(std::upper_bound(std::begin(restarts), std::end(restarts), e));
    const double len = start == 0 ? 2 : start == 2 ? 4 : start == 6 ? 8 : 16;
    const double want =
        0.01 + (0.1 - 0.01) * (1 + std::cos(std::numbers::pi * (e - start) / len)) / 2;
    INFO("epoch " << e);
    CHECK(st.opt.lr() == doctest::Approx(want).epsilon(1e-12));
    CHECK(s.T_i() == len);
    s.step();
  }
  s.step(6.5);  // half an epoch into the third cycle, by the closed form
  CHECK(s.T_cur() == 0.5);
  CHECK(s.T_i() == 8);
  CHECK(s.last_epoch() == 6);
  CHECK_THROWS_WITH_AS(s.step(-1.0), doctest::Contains("epoch must be >= 0"), tg::ValueError);
}

TEST_CASE("cyclic_lr: a triangle between base and max, momentum the other way") {
  Setup st;
  optim::CyclicLR s(st.opt, 0.01, 0.05, {.step_size_up = 2, .step_size_down = 4});
  const double lrs[] = {0.01, 0.03, 0.05, 0.04, 0.03, 0.02, 0.01, 0.03};
  const double momenta[] = {0.9, 0.85, 0.8, 0.825, 0.85, 0.875, 0.9, 0.85};
  for (int i = 0; i < 8; ++i) {
    INFO("step " << i);
    CHECK(st.opt.lr() == doctest::Approx(lrs[i]).epsilon(1e-12));
    CHECK(st.opt.momentum() == doctest::Approx(momenta[i]).epsilon(1e-12));
    s.step();
  }
}

TEST_CASE("cyclic_lr: a scale function of one's own, by cycle or by step") {
  Setup st;
  optim::CyclicLR by_cycle(
      st.opt, 0.0, 1.0,
      {.step_size_up = 1, .scale_fn = [](double c) { return 1 / c; }, .cycle_momentum = false});
  by_cycle.step();  // cycle 1, at the peak
  CHECK(st.opt.lr() == doctest::Approx(1.0));
  by_cycle.step();
  by_cycle.step();  // cycle 2, at the peak: scaled by 1/2
  CHECK(st.opt.lr() == doctest::Approx(0.5));
  Setup st2;
  optim::CyclicLR by_step(st2.opt, 0.0, 1.0,
                          {.step_size_up = 1,
                           .scale_fn = [](double t) { return 1 / (1 + t); },
                           .scale_mode = optim::CyclicLROptions::ScaleMode::Iterations,
                           .cycle_momentum = false});
  by_step.step();
  by_step.step();
  by_step.step();  // step 3, at a peak: 1 / 4
  CHECK(st2.opt.lr() == doctest::Approx(0.25));
}

TEST_CASE("one_cycle_lr: up over pct_start, down to max / div / final_div, then no further") {
  tg::Tensor w = leaf({2});
  optim::Adam opt({w}, {.lr = 1});
  optim::OneCycleLR s(
      opt, 0.5, 10,
      {.pct_start = 0.2, .anneal_strategy = optim::OneCycleLROptions::Anneal::Linear});
  // Phase 1 ends at step 0.2 * 10 - 1 = 1, phase 2 at 9.
  CHECK(opt.lr() == doctest::Approx(0.02));        // 0.5 / 25
  CHECK(opt.momentum() == doctest::Approx(0.95));  // Adam's beta1, at max_momentum
  s.step();
  CHECK(opt.lr() == doctest::Approx(0.5));
  CHECK(opt.momentum() == doctest::Approx(0.85));
  for (int i = 2; i <= 9; ++i) s.step();
  CHECK(opt.lr() == doctest::Approx(0.02 / 1e4));
  CHECK(opt.momentum() == doctest::Approx(0.95));
  s.step();  // step 10: torch would extrapolate below zero; the last lr holds
  CHECK(opt.lr() == doctest::Approx(0.02 / 1e4));
  CHECK_THROWS_WITH_AS(s.step(), doctest::Contains("OneCycleLR: tried to step 12 times"),
                       tg::ValueError);
  CHECK(s.last_epoch() == 10);  // the refused step changed nothing
}

TEST_CASE("chained_scheduler: factors compound, every child steps") {
  Setup st;
  auto warm = std::make_shared<optim::ConstantLR>(st.opt, 0.5, 2);
  auto decay = std::make_shared<optim::ExponentialLR>(st.opt, 0.9);
  optim::ChainedScheduler s({warm, decay});
  const double want[] = {0.05, 0.045, 0.081, 0.0729};
  for (int e = 0; e < 4; ++e) {
    INFO("epoch " << e);
    CHECK(st.opt.lr() == doctest::Approx(want[e]).epsilon(1e-12));
    CHECK(s.get_last_lr()[0] == st.opt.lr());
    s.step();
  }
  CHECK(warm->last_epoch() == 4);
  CHECK(decay->last_epoch() == 4);
}

TEST_CASE("cyclic schedules: bad arguments are named") {
  Setup st;
  CHECK_THROWS_WITH_AS(optim::CosineAnnealingWarmRestarts(st.opt, 0),
                       doctest::Contains("T_0 must be >= 1, got 0"), tg::ValueError);
  CHECK_THROWS_WITH_AS(optim::CosineAnnealingWarmRestarts(st.opt, 2, 0),
                       doctest::Contains("T_mult must be >= 1, got 0"), tg::ValueError);
  CHECK_THROWS_WITH_AS(optim::CyclicLR(st.opt, std::vector<double>{0.1, 0.2}, {0.3}),
                       doctest::Contains("CyclicLR: expected 1 values for base_lr, got 2"),
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(optim::CyclicLR(st.opt, 0.1, 0.2, {.step_size_up = 0}),
                       doctest::Contains("step_size_up must be > 0"), tg::ValueError);
  CHECK_THROWS_WITH_AS(optim::CyclicLR(st.opt, 0.1, 0.2, {.base_momentum = 0.95}),
                       doctest::Contains("0 <= base_momentum <= max_momentum < 1"), tg::ValueError);
  tg::Tensor w = leaf({2});
  optim::Adagrad adagrad({w});
  CHECK_THROWS_WITH_AS(optim::OneCycleLR(adagrad, 0.1, 10),
                       doctest::Contains("OneCycleLR: Adagrad has no momentum to cycle; pass "
                                         "cycle_momentum = false"),
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(optim::OneCycleLR(st.opt, 0.1, 0), doctest::Contains("total_steps"),
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(optim::OneCycleLR(st.opt, 0.1, 10, {.pct_start = 1.5}),
                       doctest::Contains("pct_start must be in [0, 1], got 1.5"), tg::ValueError);
  CHECK_THROWS_WITH_AS(adagrad.momentum(), doctest::Contains("Adagrad has no momentum"),
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(st.opt.set_momentum(-0.5, 0), doctest::Contains("SGD: momentum"),
                       tg::ValueError);
  auto other = std::make_shared<optim::ExponentialLR>(adagrad, 0.9);
  CHECK_THROWS_WITH_AS(
      optim::ChainedScheduler({std::make_shared<optim::ExponentialLR>(st.opt, 0.9), other}),
      doctest::Contains("ChainedScheduler: scheduler 1 drives another optimizer"), tg::ValueError);
  CHECK_THROWS_AS(optim::ChainedScheduler({}), tg::ValueError);
}

TEST_CASE("new schedules: a run resumed mid-way continues exactly, momentum included") {
  // Each schedule: 7 steps, save optimizer and schedule, 9 more; a fresh pair loads and runs
  // the same 9: every lr and momentum agree.
  using Make = std::function<std::unique_ptr<optim::LRScheduler>(optim::Optimizer&)>;
  const std::pair<const char*, Make> schedules[] = {
      {"warm restarts",
       [](optim::Optimizer& o) {
         return std::make_unique<optim::CosineAnnealingWarmRestarts>(o, 3, 2, 0.001);
       }},
      {"cyclic",
       [](optim::Optimizer& o) {
         return std::make_unique<optim::CyclicLR>(
             o, 0.01, 0.1,
             optim::CyclicLROptions{.step_size_up = 3,
                                    .mode = optim::CyclicLROptions::Mode::Triangular2});
       }},
      {"one cycle",
       [](optim::Optimizer& o) { return std::make_unique<optim::OneCycleLR>(o, 0.1, 20); }},
      {"constant",
       [](optim::Optimizer& o) { return std::make_unique<optim::ConstantLR>(o, 0.5, 9); }},
      {"polynomial",
       [](optim::Optimizer& o) { return std::make_unique<optim::PolynomialLR>(o, 12, 2.0); }},
      {"multiplicative",
       [](optim::Optimizer& o) {
         return std::make_unique<optim::MultiplicativeLR>(
             o, [](std::int64_t e) { return e % 2 ? 0.9 : 1.05; });
       }},
      {"chained",
       [](optim::Optimizer& o) {
         return std::make_unique<optim::ChainedScheduler>(
             std::vector<std::shared_ptr<optim::LRScheduler>>{
                 std::make_shared<optim::LinearLR>(o, 0.5, 1.0, 4),
                 std::make_shared<optim::CosineAnnealingWarmRestarts>(o, 5)});
       }},
  };
  for (const auto& entry : schedules) {
    const auto& name = entry.first;
    const auto& make = entry.second;
    INFO(name);
    Setup a;
    auto sa = make(a.opt);
    for (int i = 0; i < 7; ++i) sa->step();
    tg::Archive ar;
    a.opt.save_state(ar);
    sa->save_state(ar);
    Setup b;
    auto sb = make(b.opt);
    b.opt.load_state(ar);
    sb->load_state(ar);
    CHECK(b.opt.momentum() == a.opt.momentum());
    for (int i = 0; i < 9; ++i) {
      sa->step();
      sb->step();
      CHECK(a.opt.lr() == b.opt.lr());
      CHECK(a.opt.momentum() == b.opt.momentum());
    }
  }
}

TEST_CASE("cyclic schedules: a bad saved cycle is named and changes nothing") {
  Setup st;
  optim::CosineAnnealingWarmRestarts s(st.opt, 4);
  s.step();
  tg::Archive ar;
  s.save_state(ar);
  ar.put("sched.T_cur", tg::scalar_tensor(7.0, {.dtype = tg::kFloat64}));
  CHECK_THROWS_WITH_AS(s.load_state(ar), doctest::Contains("expected 0 <= T_cur < T_i"),
                       tg::ValueError);
  CHECK(s.T_cur() == 1);
  tg::Archive opt_ar;
  st.opt.save_state(opt_ar);
  opt_ar.put("optim.group.0.momentum", tg::scalar_tensor(-1.0, {.dtype = tg::kFloat64}));
  CHECK_THROWS_WITH_AS(st.opt.load_state(opt_ar),
                       doctest::Contains("entry 'optim.group.0.momentum': SGD: momentum"),
                       tg::ValueError);
  CHECK(st.opt.momentum() == 0.9);
}

namespace {
// An optimizer of one's own with a betas field (as Lion's) that declares no cycled momentum.
struct BetasOptions {
  double lr = 0.1;
  std::pair<double, double> betas = {0.9, 0.99};
};
class WithBetas : public optim::OptimizerWith<WithBetas, BetasOptions> {
 public:
  using OptimizerWith::OptimizerWith;
  static constexpr const char* kName = "WithBetas";
  static std::vector<std::string> buffer_names() { return {}; }
  static void validate(const BetasOptions&) {}

 protected:
  void update(std::size_t, optim::ParamState&, const tg::Tensor& p, const tg::Tensor& g) override {
    p.add_(g, -options().lr);
  }
};
// The same, declaring its beta1 as the momentum to cycle.
class Declared : public optim::OptimizerWith<Declared, BetasOptions> {
 public:
  using OptimizerWith::OptimizerWith;
  static constexpr const char* kName = "Declared";
  static constexpr optim::CycledMomentum<BetasOptions> kCycledMomentum{
      "beta1", [](BetasOptions& o) -> double& { return o.betas.first; }};
  static std::vector<std::string> buffer_names() { return {}; }
  static void validate(const BetasOptions& o) {
    optim::require(o.betas.first >= 0 && o.betas.first < 1, "Declared", "beta1", o.betas.first,
                   "in [0, 1)");
  }

 protected:
  void update(std::size_t, optim::ParamState&, const tg::Tensor& p, const tg::Tensor& g) override {
    p.add_(g, -options().lr);
  }
};
}  // namespace

TEST_CASE("cycled momentum: only what an optimizer declares is cycled, by name") {
  // A field that happens to be called betas was found at compile time and cycled; now an
  // optimizer declares what a cycling schedule may move, or is refused by name.
  tg::Tensor w = leaf({2});
  WithBetas plain({w});
  CHECK(plain.cycled_momentum() == nullptr);
  CHECK_THROWS_WITH_AS(optim::OneCycleLR(plain, 0.1, 10),
                       doctest::Contains("OneCycleLR: WithBetas has no momentum to cycle"),
                       tg::ValueError);
  CHECK(plain.options().betas.first == 0.9);  // untouched
  CHECK_NOTHROW(optim::OneCycleLR(plain, 0.1, 10, {.cycle_momentum = false}));

  Declared declared({w});
  CHECK(std::string(declared.cycled_momentum()) == "beta1");
  optim::OneCycleLR cycle(declared, 0.1, 10);
  CHECK(declared.momentum() == doctest::Approx(0.95));  // max_momentum at the start
  CHECK(declared.options().betas.first == doctest::Approx(0.95));
  CHECK_THROWS_WITH_AS(declared.set_momentum(1.5, 0), doctest::Contains("Declared: beta1"),
                       tg::ValueError);
  tg::Archive ar;  // saved with the group's lr, and restored
  declared.save_state(ar);
  CHECK(ar.get_double("optim.group.0.momentum") == doctest::Approx(0.95));
  Declared other({w});
  other.load_state(ar);
  CHECK(other.momentum() == doctest::Approx(0.95));
  CHECK(std::string(optim::SGD({w}, {.lr = 0.1}).cycled_momentum()) == "momentum");
  CHECK(std::string(optim::Adam({w}).cycled_momentum()) == "beta1");
}
