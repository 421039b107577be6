// The optimizer base: state named by parameter, groups, parameters left alone, and state that
// saves and loads (every optimizer continues bit-identically; a bad entry changes nothing).
#include <map>

#include "run.h"

namespace optim = tg::optim;
namespace nn = tg::nn;
using optim_run::Run;
using optim_run::without;

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

TEST_CASE("optimizer: a step between forward and backward is refused, as in torch") {
  // The second forward saved w; the step then changed it in place: backward would
  // differentiate at values the forward never saw.
  for (const bool lbfgs : {false, true}) {
    INFO((lbfgs ? "LBFGS" : "SGD"));
    tg::Tensor w = tg::from_vector(std::vector<double>{1, 2}).requires_grad_();
    std::unique_ptr<optim::Optimizer> opt;
    if (lbfgs)
      opt = std::make_unique<optim::LBFGS>(std::vector<tg::Tensor>{w},
                                           optim::LBFGSOptions{.max_iter = 1});
    else
      opt = std::make_unique<optim::SGD>(std::vector<tg::Tensor>{w}, optim::SGDOptions{.lr = 0.1});
    const auto loss = [&] { return (w * w).sum(); };
    const tg::Tensor saved = loss();
    opt->step([&] {
      opt->zero_grad();
      const tg::Tensor l = loss();
      l.backward();
      return l;
    });
    CHECK_THROWS_WITH_AS(saved.backward(),
                         doctest::Contains("was modified in place after it was recorded"),
                         tg::StateError);
  }
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
