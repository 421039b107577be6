// Every optimizer against torch 1.13's own trajectories: 20 steps on a float64 quartic with two
// parameter groups, the second at half the lr (tests/reference/optimizers.json, written by
// scripts/gen_torch_reference.py), every parameter after every step at the parity tolerance.
// Runs with maximize climb the negated quartic.
#include <memory>
#include <set>

#include "../torch_data.h"

namespace optim = tg::optim;

namespace {

using Json = nlohmann::json;

// Sets field from o[key] when the case gives it (torch's keyword names), else leaves the default.
template <typename T>
void read(const Json& o, const char* key, T& field) {
  if (o.contains(key)) field = o.at(key).get<T>();
}

template <typename Opt, typename Options>
std::unique_ptr<optim::Optimizer> two_groups(const std::vector<tg::Tensor>& w, Options o) {
  auto opt = std::make_unique<Opt>(std::vector<tg::Tensor>{w[0]}, o);
  o.lr /= 2;
  opt->add_param_group(std::vector<tg::Tensor>{w[1]}, o);
  return opt;
}

// What every Adam-family option struct has.
template <typename Options>
Options adam_like(const Json& j) {
  Options o;
  read(j, "lr", o.lr);
  read(j, "betas", o.betas);
  read(j, "eps", o.eps);
  read(j, "weight_decay", o.weight_decay);
  if constexpr (requires { o.maximize; }) read(j, "maximize", o.maximize);
  return o;
}

std::unique_ptr<optim::Optimizer> make(const std::string& name, const Json& j,
                                       const std::vector<tg::Tensor>& w) {
  if (name == "SGD") {
    optim::SGDOptions o;
    for (auto [key, field] : {std::pair{"lr", &o.lr},
                              {"momentum", &o.momentum},
                              {"dampening", &o.dampening},
                              {"weight_decay", &o.weight_decay}})
      read(j, key, *field);
    read(j, "nesterov", o.nesterov);
    read(j, "maximize", o.maximize);
    return two_groups<optim::SGD>(w, o);
  }
  if (name == "Adagrad") {
    optim::AdagradOptions o;
    for (auto [key, field] : {std::pair{"lr", &o.lr},
                              {"lr_decay", &o.lr_decay},
                              {"weight_decay", &o.weight_decay},
                              {"initial_accumulator_value", &o.initial_accumulator_value},
                              {"eps", &o.eps}})
      read(j, key, *field);
    read(j, "maximize", o.maximize);
    return two_groups<optim::Adagrad>(w, o);
  }
  if (name == "RMSprop") {
    optim::RMSpropOptions o;
    for (auto [key, field] : {std::pair{"lr", &o.lr},
                              {"alpha", &o.alpha},
                              {"eps", &o.eps},
                              {"weight_decay", &o.weight_decay},
                              {"momentum", &o.momentum}})
      read(j, key, *field);
    read(j, "centered", o.centered);
    read(j, "maximize", o.maximize);
    return two_groups<optim::RMSprop>(w, o);
  }
  if (name == "Adam") {
    auto o = adam_like<optim::AdamOptions>(j);
    read(j, "amsgrad", o.amsgrad);
    return two_groups<optim::Adam>(w, o);
  }
  if (name == "AdamW") {
    auto o = adam_like<optim::AdamWOptions>(j);
    read(j, "amsgrad", o.amsgrad);
    return two_groups<optim::AdamW>(w, o);
  }
  if (name == "Adamax") return two_groups<optim::Adamax>(w, adam_like<optim::AdamaxOptions>(j));
  if (name == "NAdam") {
    auto o = adam_like<optim::NAdamOptions>(j);
    read(j, "momentum_decay", o.momentum_decay);
    return two_groups<optim::NAdam>(w, o);
  }
  if (name == "RAdam") return two_groups<optim::RAdam>(w, adam_like<optim::RAdamOptions>(j));
  if (name == "Adadelta") {
    optim::AdadeltaOptions o;
    for (auto [key, field] : {std::pair{"lr", &o.lr},
                              {"rho", &o.rho},
                              {"eps", &o.eps},
                              {"weight_decay", &o.weight_decay}})
      read(j, key, *field);
    read(j, "maximize", o.maximize);
    return two_groups<optim::Adadelta>(w, o);
  }
  if (name == "Rprop") {
    optim::RpropOptions o;
    read(j, "lr", o.lr);
    read(j, "etas", o.etas);
    read(j, "step_sizes", o.step_sizes);
    read(j, "maximize", o.maximize);
    return two_groups<optim::Rprop>(w, o);
  }
  REQUIRE(name == "ASGD");
  optim::ASGDOptions o;
  for (auto [key, field] : {std::pair{"lr", &o.lr},
                            {"lambd", &o.lambd},
                            {"alpha", &o.alpha},
                            {"t0", &o.t0},
                            {"weight_decay", &o.weight_decay}})
    read(j, key, *field);
  read(j, "maximize", o.maximize);
  return two_groups<optim::ASGD>(w, o);
}

void check_close(const tg::Tensor& got, const Json& want) {
  torch_data::check_parity_values(got, tg::from_vector(want.get<std::vector<double>>()));
}

}  // namespace

TEST_CASE("optimizers: torch 1.13's trajectories, 20 steps, two groups (optimizers.json)") {
  const Json file = torch_data::file("optimizers.json");
  const Json& problem = file.at("problem");
  const auto field = [&](const char* key, std::size_t i) {
    return tg::from_vector(problem.at(key).at(i).get<std::vector<double>>());
  };
  const tg::Tensor q[2] = {field("q", 0), field("q", 1)}, c[2] = {field("c", 0), field("c", 1)};
  const Json& cases = file.at("cases");
  CHECK(cases.size() >= 34);
  std::set<std::string> seen;
  for (const Json& k : cases) {
    const std::string name = k.at("optimizer");
    seen.insert(name);
    INFO(name << " " << k.at("options").dump());
    std::vector<tg::Tensor> w;
    for (std::size_t i = 0; i < 2; ++i) w.push_back(field("w0", i).requires_grad_());
    const auto opt = make(name, k.at("options"), w);
    const bool maximize = k.at("options").value("maximize", false);
    const Json& steps = k.at("steps");
    REQUIRE(steps.size() == 20);
    for (std::size_t t = 0; t < steps.size(); ++t) {
      opt->zero_grad();
      const auto term = [&](std::size_t i) {
        return (q[i] * tg::pow(w[i] - c[i], 2) + 0.1 * tg::pow(w[i], 4)).sum();
      };
      const tg::Tensor loss = term(0) + term(1);
      (maximize ? -loss : loss).backward();  // maximizing climbs the negated quartic
      opt->step();
      for (std::size_t i = 0; i < 2; ++i) {
        INFO("step " << t + 1 << ", parameter " << i);
        check_close(w[i], steps[t].at(i));
      }
    }
    if (name == "ASGD")
      for (std::size_t i = 0; i < 2; ++i) {
        INFO("ASGD's average of parameter " << i);
        check_close(opt->state(i).buffers.at(0), k.at("ax").at(i));
      }
  }
  CHECK(seen == std::set<std::string>{"SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "Adamax",
                                      "Adadelta", "NAdam", "RAdam", "Rprop", "ASGD"});
}
