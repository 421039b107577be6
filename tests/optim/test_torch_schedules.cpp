// Every schedule against torch 1.13's own learning rates: 30 epochs on two parameter groups
// (tests/reference/schedules.json, written by scripts/gen_torch_reference.py), to 1e-12 relative.
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

std::unique_ptr<optim::LRScheduler> make(const std::string& name, optim::Optimizer& opt,
                                         const Options& o) {
  if (name == "StepLR") return std::make_unique<optim::StepLR>(opt, o["step_size"], o["gamma"]);
  if (name == "MultiStepLR")
    return std::make_unique<optim::MultiStepLR>(
        opt, o["milestones"].get<std::vector<std::int64_t>>(), o["gamma"]);
  if (name == "ExponentialLR") return std::make_unique<optim::ExponentialLR>(opt, o["gamma"]);
  if (name == "CosineAnnealingLR")
    return std::make_unique<optim::CosineAnnealingLR>(opt, o["T_max"], o["eta_min"]);
  if (name == "LinearLR")
    return std::make_unique<optim::LinearLR>(opt, o["start_factor"], o["end_factor"],
                                             o["total_iters"]);
  if (name == "ConstantLR")
    return std::make_unique<optim::ConstantLR>(opt, o["factor"], o["total_iters"]);
  if (name == "PolynomialLR")
    return std::make_unique<optim::PolynomialLR>(opt, o["total_iters"], o["power"]);
  if (name == "LambdaLR") return std::make_unique<optim::LambdaLR>(opt, lambda(o["lr_lambda"]));
  REQUIRE(name == "MultiplicativeLR");
  return std::make_unique<optim::MultiplicativeLR>(opt, lambda(o["lr_lambda"]));
}

}  // namespace

TEST_CASE("schedules: torch 1.13's learning rates, 30 epochs, two groups (schedules.json)") {
  const nlohmann::json cases = torch_data::cases("schedules.json");
  CHECK(cases.size() >= 14);
  for (const nlohmann::json& c : cases) {
    const std::string name = c.at("schedule");
    INFO(name << " " << c.at("options").dump());
    tg::Tensor a = tg::zeros({2}, {.requires_grad = true}),
               b = tg::zeros({2}, {.requires_grad = true});
    optim::SGD opt({a}, {.lr = 0.1});
    opt.add_param_group(std::vector<tg::Tensor>{b}, {.lr = 0.05});
    const auto s = make(name, opt, c.at("options"));
    const auto want = c.at("lrs").get<std::vector<std::vector<double>>>();
    for (std::size_t e = 0; e < want.size(); ++e) {
      for (std::size_t g = 0; g < 2; ++g) {
        INFO("epoch " << e << " group " << g << ": got " << opt.lr(g) << ", torch " << want[e][g]);
        CHECK(std::abs(opt.lr(g) - want[e][g]) <= 1e-12 * std::abs(want[e][g]));
      }
      s->step();
    }
  }
}
