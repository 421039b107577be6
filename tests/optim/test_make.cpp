// optim::make and make_schedule: every name gives the optimizer or schedule it says, with the
// options given and torch's defaults otherwise; anything else is refused, listing the names.
#include "../core/helpers.h"

namespace optim = tg::optim;

TEST_CASE("make: every name gives its optimizer, with the lr given or the optimizer's own") {
  tg::Tensor w = leaf({3});
  const std::vector<std::pair<const char*, const char*>> kinds = {
      {"sgd", "SGD"},         {"momentum", "SGD"},      {"nesterov", "SGD"}, {"adagrad", "Adagrad"},
      {"rmsprop", "RMSprop"}, {"adam", "Adam"},         {"amsgrad", "Adam"}, {"adamw", "AdamW"},
      {"adamax", "Adamax"},   {"adadelta", "Adadelta"}, {"nadam", "NAdam"},  {"radam", "RAdam"},
      {"rprop", "Rprop"},     {"asgd", "ASGD"},         {"lbfgs", "LBFGS"}};
  REQUIRE(optim::optimizer_names().size() == kinds.size());
  for (const auto& kind : kinds) {
    const auto& name = kind.first;
    const auto& type = kind.second;
    INFO(name);
    const auto opt = optim::make(name, {w}, {.lr = 0.25});
    CHECK(opt->name() == type);
    CHECK(opt->lr() == 0.25);
  }
  CHECK(optim::make("adam", {w})->lr() == 1e-3);  // torch's default
  CHECK(optim::make("rmsprop", {w})->lr() == 1e-2);
  const auto nesterov = optim::make("nesterov", {w}, {.lr = 0.1, .momentum = 0.8});
  const auto& sgd = dynamic_cast<const optim::SGD&>(*nesterov);
  CHECK(sgd.options().momentum == 0.8);
  CHECK(sgd.options().nesterov);
  CHECK(dynamic_cast<const optim::Adam&>(*optim::make("amsgrad", {w})).options().amsgrad);
  CHECK(dynamic_cast<const optim::AdamW&>(*optim::make("adamw", {w}, {.weight_decay = 0.5}))
            .options()
            .weight_decay == 0.5);
}

TEST_CASE("make: unknown names and options a choice cannot take are refused by name") {
  tg::Tensor w = leaf({3});
  CHECK_THROWS_WITH_AS(optim::make("adamm", {w}),
                       doctest::Contains("no optimizer named \"adamm\"; expected one of sgd, "),
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(optim::make("sgd", {w}),
                       doctest::Contains("sgd needs an lr (SGD has no default)"), tg::ValueError);
  CHECK_THROWS_WITH_AS(optim::make("rprop", {w}, {.weight_decay = 0.1}),
                       doctest::Contains("rprop takes no weight decay, got 0.1"), tg::ValueError);
  CHECK_THROWS_WITH_AS(optim::make("adam", {w}, {.lr = 0.1, .weight_decay = -1}),
                       doctest::Contains("Adam: weight_decay must be >= 0"), tg::ValueError);
}

TEST_CASE("make_schedule: every name gives its schedule over the run") {
  tg::Tensor w = leaf({3});
  const optim::MakeScheduleOptions run{.epochs = 10, .steps_per_epoch = 4};
  auto fresh = [&] { return optim::make("momentum", {w}, {.lr = 0.1}); };
  for (const std::string& name : optim::schedule_names()) {
    INFO(name);
    auto opt = fresh();
    const auto s = optim::make_schedule(name, *opt, run);
    CHECK((s == nullptr) == (name == "none"));
    CHECK(optim::steps_per_batch(name) == (name == "onecycle"));
  }
  auto opt = fresh();
  auto step = optim::make_schedule("step", *opt, run);
  for (int e = 0; e < 3; ++e) step->step();  // a tenth every third of the run
  CHECK(opt->lr() == doctest::Approx(0.01));
  auto cyc = fresh();
  auto one = optim::make_schedule("onecycle", *cyc, run);
  CHECK(dynamic_cast<optim::OneCycleLR&>(*one).total_steps() == 40);
  CHECK(cyc->momentum() == doctest::Approx(0.95));  // SGD's momentum cycles
  CHECK_THROWS_WITH_AS(optim::make_schedule("cosin", *opt, run),
                       doctest::Contains("no schedule named \"cosin\"; expected one of none, "),
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(optim::make_schedule("cosine", *opt, {.epochs = 0}),
                       doctest::Contains("epochs and steps_per_epoch must be >= 1"),
                       tg::ValueError);
}
