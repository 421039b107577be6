// LBFGS against torch 1.13's own runs (tests/reference/lbfgs.json): Rosenbrock and the
// optimizer quartic, with and without the strong-Wolfe line search, every parameter after every
// step at the parity tolerance and the closure's evaluation counts exactly; then step(closure)
// for every optimizer, the errors, and resuming.
#include <functional>

#include "../torch_data.h"

namespace optim = tg::optim;

namespace {

using Json = nlohmann::json;

tg::Tensor rosenbrock(const std::vector<tg::Tensor>& ws) {
  std::vector<tg::Tensor> flat;
  for (const tg::Tensor& w : ws) flat.push_back(w.reshape({-1}));
  const tg::Tensor x = tg::cat(flat, 0);
  const std::int64_t n = x.numel();
  const tg::Tensor head = x.narrow(0, 0, n - 1), tail = x.narrow(0, 1, n - 1);
  return (100 * tg::square(tail - tg::square(head)) + tg::square(1 - head)).sum();
}

tg::Tensor quartic(const std::vector<tg::Tensor>& ws) {
  const tg::Tensor q[2] = {tg::from_vector(std::vector<double>{1.0, 0.5, 2.0, 1.5, 0.25, 3.0}),
                           tg::from_vector(std::vector<double>{0.8, 1.2, 0.4, 2.5})};
  const tg::Tensor c[2] = {tg::from_vector(std::vector<double>{0.5, -1.0, 2.0, 0.0, 1.0, -0.5}),
                           tg::from_vector(std::vector<double>{-0.25, 0.75, 1.5, -2.0})};
  tg::Tensor loss = (q[0] * tg::square(ws[0] - c[0]) + 0.1 * tg::pow(ws[0], 4)).sum();
  return loss + (q[1] * tg::square(ws[1] - c[1]) + 0.1 * tg::pow(ws[1], 4)).sum();
}

optim::LBFGSOptions options_of(const Json& j) {
  optim::LBFGSOptions o;
  o.lr = j.value("lr", 1.0);
  o.max_iter = j.value("max_iter", 20);
  o.max_eval = j.value("max_eval", -1);
  o.tolerance_grad = j.value("tolerance_grad", 1e-7);
  o.tolerance_change = j.value("tolerance_change", 1e-9);
  o.history_size = j.value("history_size", 100);
  if (j.value("line_search_fn", "") == "strong_wolfe")
    o.line_search = optim::LBFGSOptions::LineSearch::StrongWolfe;
  return o;
}

std::vector<tg::Tensor> leaves_of(const Json& w0) {
  std::vector<tg::Tensor> ws;
  for (const Json& w : w0)
    ws.push_back(tg::from_vector(w.get<std::vector<double>>()).requires_grad_());
  return ws;
}

// A closure that counts its calls.
struct Counted {
  std::function<tg::Tensor(const std::vector<tg::Tensor>&)> f;
  std::vector<tg::Tensor> ws;
  optim::Optimizer* opt = nullptr;
  int calls = 0;
  tg::Tensor operator()() {
    ++calls;
    opt->zero_grad();
    tg::Tensor loss = f(ws);
    loss.backward();
    return loss;
  }
};

}  // namespace

TEST_CASE("lbfgs: torch 1.13's runs, line search or not (lbfgs.json)") {
  const Json cases = torch_data::cases("lbfgs.json");
  CHECK(cases.size() >= 5);
  for (const Json& c : cases) {
    INFO(c.at("problem") << " " << c.at("options").dump());
    auto ws = leaves_of(c.at("w0"));
    optim::LBFGS opt(ws, options_of(c.at("options")));
    Counted closure{c.at("problem") == "rosenbrock" ? rosenbrock : quartic, ws, &opt};
    std::size_t t = 0;
    for (const Json& want : c.at("steps")) {
      INFO("step " << ++t);
      const double loss = opt.step(std::ref(closure)).item();
      CHECK(std::abs(loss - want.at("loss").get<double>()) <=
            1e-10 + 1e-9 * std::abs(want.at("loss").get<double>()));
      for (std::size_t i = 0; i < ws.size(); ++i)
        torch_data::check_parity_values(
            ws[i], tg::from_vector(want.at("params").at(i).get<std::vector<double>>()));
      CHECK(opt.func_evals() == want.at("func_evals").get<std::int64_t>());
      CHECK(opt.n_iter() == want.at("n_iter").get<std::int64_t>());
      CHECK(closure.calls == want.at("closure_calls").get<int>());
    }
  }
}

TEST_CASE("lbfgs: solves 2-D Rosenbrock from (-1.5, 2) to 1e-6 with the line search") {
  std::vector<tg::Tensor> ws{tg::from_vector(std::vector<double>{-1.5, 2.0}).requires_grad_()};
  // torch's default tolerances stop at a loss near 2e-10 (lbfgs.json); tighter ones go on.
  optim::LBFGS opt(ws, {.tolerance_grad = 1e-12,
                        .tolerance_change = 1e-15,
                        .line_search = optim::LBFGSOptions::LineSearch::StrongWolfe});
  Counted closure{rosenbrock, ws, &opt};
  double loss = 0;
  for (int i = 0; i < 5; ++i) loss = opt.step(std::ref(closure)).item();
  const auto x = ws[0].to_vector<double>();
  CHECK(std::abs(x[0] - 1) < 1e-6);
  CHECK(std::abs(x[1] - 1) < 1e-6);
  CHECK(loss < 1e-12);
  CHECK(opt.history_length() <= 100);
}

TEST_CASE("lbfgs: a run resumed from its saved state continues bit-identically") {
  const auto run = [](bool resume) {
    std::vector<tg::Tensor> ws{
        tg::from_vector(std::vector<double>{-1.2, 1.0, 0.5, 0.0, -0.5, 1.5}).requires_grad_()};
    optim::LBFGSOptions o;
    o.max_iter = 4;
    o.history_size = 3;
    o.line_search = optim::LBFGSOptions::LineSearch::StrongWolfe;
    auto opt = std::make_unique<optim::LBFGS>(ws, o);
    Counted closure{rosenbrock, ws, opt.get()};
    for (int i = 0; i < 3; ++i) opt->step(std::ref(closure));
    if (resume) {
      tg::Archive ar;
      opt->save_state(ar);
      ws = {ws[0].detach().clone().requires_grad_()};
      opt = std::make_unique<optim::LBFGS>(ws, o);
      opt->load_state(ar);
      closure = Counted{rosenbrock, ws, opt.get()};
    }
    for (int i = 0; i < 4; ++i) opt->step(std::ref(closure));
    return std::pair{ws[0].to_vector<double>(), opt->func_evals()};
  };
  const auto straight = run(false), resumed = run(true);
  CHECK(straight.first == resumed.first);
  CHECK(straight.second == resumed.second);
}

TEST_CASE("lbfgs: misuse is named, and a bad saved state changes nothing") {
  std::vector<tg::Tensor> ws{tg::from_vector(std::vector<double>{-1.5, 2.0}).requires_grad_()};
  optim::LBFGS opt(ws);
  CHECK_THROWS_WITH_AS(opt.step(), doctest::Contains("LBFGS: step() needs a closure"),
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(opt.step([] { return tg::zeros({2}, {.dtype = tg::kFloat64}); }),
                       doctest::Contains("LBFGS: the closure must return the loss, a one-element "
                                         "tensor; got shape [2]"),
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(optim::LBFGS(ws, {.history_size = 0}),
                       doctest::Contains("LBFGS: history_size must be >= 1, got 0"),
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(optim::LBFGS(ws, {.lr = 0}), doctest::Contains("LBFGS: lr must be > 0"),
                       tg::ValueError);
  Counted closure{rosenbrock, ws, &opt};
  opt.step(std::ref(closure));
  tg::Archive ar;
  opt.save_state(ar);
  ar.put("optim.lbfgs.d", tg::zeros({3}, {.dtype = tg::kFloat64}));
  const auto evals = opt.func_evals();
  CHECK_THROWS_WITH_AS(opt.load_state(ar),
                       doctest::Contains("entry 'optim.lbfgs.d' has shape [3]; expected [2]"),
                       tg::ValueError);
  CHECK(opt.func_evals() == evals);
  tg::Tensor other = tg::from_vector(std::vector<double>{1.0}).requires_grad_();
  opt.add_param_group(std::vector<tg::Tensor>{other}, {});
  CHECK_THROWS_WITH_AS(opt.step(std::ref(closure)),
                       doctest::Contains("LBFGS: supports one parameter group, this one has 2"),
                       tg::ValueError);
}

TEST_CASE("lbfgs: max_iter at int64's limit runs (its default max_eval saturates)") {
  std::vector<tg::Tensor> ws{tg::from_vector(std::vector<double>{3.0, -1.0}).requires_grad_()};
  optim::LBFGSOptions o;
  o.max_iter = INT64_MAX;
  optim::LBFGS opt(ws, o);
  opt.step([&] {
    opt.zero_grad();
    tg::Tensor l = tg::square(ws[0]).sum();  // the minimum is reached, and the step stops
    l.backward();
    return l;
  });
  CHECK(std::abs(ws[0].to_vector<double>()[0]) < 1e-6);
  CHECK(opt.n_iter() < 10);
}

TEST_CASE("lbfgs: a closure that throws mid-line-search leaves the parameters where they were") {
  std::vector<tg::Tensor> ws{tg::from_vector(std::vector<double>{-1.5, 2.0}).requires_grad_()};
  optim::LBFGS opt(ws, {.line_search = optim::LBFGSOptions::LineSearch::StrongWolfe});
  int calls = 0;
  const auto closure = [&] {
    if (++calls == 2) throw std::runtime_error("data went away");
    opt.zero_grad();
    tg::Tensor l = rosenbrock(ws);
    l.backward();
    return l;
  };
  const auto before = ws[0].to_vector<double>();
  CHECK_THROWS_WITH(opt.step(closure), "data went away");
  CHECK(ws[0].to_vector<double>() == before);
}

TEST_CASE("step(closure): every optimizer evaluates once, steps, and returns the loss") {
  tg::Tensor w = tg::from_vector(std::vector<double>{1.0, -2.0}).requires_grad_();
  std::vector<std::unique_ptr<optim::Optimizer>> opts;
  opts.push_back(
      std::make_unique<optim::SGD>(std::vector<tg::Tensor>{w}, optim::SGDOptions{.lr = 0.1}));
  opts.push_back(std::make_unique<optim::Adam>(std::vector<tg::Tensor>{w}));
  opts.push_back(std::make_unique<optim::Rprop>(std::vector<tg::Tensor>{w}));
  for (auto& opt : opts) {
    INFO(opt->name());
    const auto before = w.to_vector<double>();
    int calls = 0;
    tg::NoGradGuard caller_not_recording;  // the closure records anyway
    const tg::Tensor loss = opt->step([&] {
      ++calls;
      opt->zero_grad();
      tg::Tensor l = tg::square(w).sum();
      l.backward();
      return l;
    });
    CHECK(calls == 1);
    CHECK(loss.item() == doctest::Approx(before[0] * before[0] + before[1] * before[1]));
    CHECK(w.to_vector<double>() != before);
  }
}
