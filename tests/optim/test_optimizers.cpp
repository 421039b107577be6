// Every optimizer against its documented update rule (torch.optim, 1.13), written here
// independently as plain-double loops, option combination by option combination.
#include <cmath>

#include "reference.h"

namespace optim = tg::optim;

TEST_CASE("sgd: hand-computed first and second steps with momentum") {
  // loss = w^2 at w = 1: g = 2w. Momentum 0.9, lr 0.1.
  tg::Tensor w = leaf_of({1.0});
  optim::SGD opt({w}, {.lr = 0.1, .momentum = 0.9});
  (w * w).sum().backward();
  opt.step();  // b = g = 2 (the first buffer is the gradient itself); w = 1 - 0.2
  check_values(w, {0.8});
  opt.zero_grad();
  (w * w).sum().backward();
  opt.step();  // g = 1.6; b = 0.9 * 2 + 1.6 = 3.4; w = 0.8 - 0.34
  check_values(w, {0.46});
}

TEST_CASE("sgd: trajectories for every option combination") {
  struct Case {
    const char* name;
    optim::SGDOptions o;
  };
  const Case cases[] = {
      {"plain", {.lr = 0.05}},
      {"momentum", {.lr = 0.05, .momentum = 0.9}},
      {"dampening", {.lr = 0.05, .momentum = 0.8, .dampening = 0.3}},
      {"nesterov", {.lr = 0.05, .momentum = 0.9, .nesterov = true}},
      {"weight decay + nesterov",
       {.lr = 0.05, .momentum = 0.5, .weight_decay = 0.1, .nesterov = true}},
      {"maximize", {.lr = 0.02, .momentum = 0.5, .maximize = true}},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    tg::Tensor w = Quartic().start();
    optim::SGD opt({w}, c.o);
    std::vector<double> buf(6);
    const auto o = c.o;
    check_trajectory(opt, w, [&, o](int t, std::size_t i, double& x, double g) {
      double d = (o.maximize ? -g : g) + o.weight_decay * x;
      if (o.momentum != 0) {
        buf[i] = t == 1 ? d : o.momentum * buf[i] + (1 - o.dampening) * d;
        d = o.nesterov ? d + o.momentum * buf[i] : buf[i];
      }
      x -= o.lr * d;
    });
  }
}

TEST_CASE("adagrad: trajectories, with lr_decay counted from the first step") {
  const optim::AdagradOptions cases[] = {
      {.lr = 0.1},
      {.lr = 0.1, .lr_decay = 0.05},
      {.lr = 0.1,
       .lr_decay = 0.01,
       .weight_decay = 0.2,
       .initial_accumulator_value = 0.5,
       .eps = 1e-6},
      {.lr = 0.1, .maximize = true},
  };
  for (const auto& o : cases) {
    tg::Tensor w = Quartic().start();
    optim::Adagrad opt({w}, o);
    std::vector<double> sum(6, o.initial_accumulator_value);
    const double sign = o.maximize ? -1 : 1;
    check_trajectory(opt, w, [&](int t, std::size_t i, double& x, double g) {
      const double d = sign * g + o.weight_decay * x;
      const double clr = o.lr / (1 + (t - 1) * o.lr_decay);
      sum[i] += d * d;
      x -= clr * d / (std::sqrt(sum[i]) + o.eps);
    });
  }
}

TEST_CASE("rmsprop: trajectories, eps outside the root, centered and momentum") {
  const optim::RMSpropOptions cases[] = {
      {.lr = 0.01},
      {.lr = 0.01, .alpha = 0.9, .eps = 1e-3},
      {.lr = 0.01, .centered = true},
      {.lr = 0.01, .momentum = 0.9},
      {.lr = 0.01, .alpha = 0.95, .weight_decay = 0.1, .momentum = 0.5, .centered = true},
      {.lr = 0.01, .maximize = true},
  };
  for (const auto& o : cases) {
    tg::Tensor w = Quartic().start();
    optim::RMSprop opt({w}, o);
    std::vector<double> v(6), m(6), b(6);
    check_trajectory(opt, w, [&](int, std::size_t i, double& x, double g) {
      const double d = (o.maximize ? -g : g) + o.weight_decay * x;
      v[i] = o.alpha * v[i] + (1 - o.alpha) * d * d;
      double avg;
      if (o.centered) {
        m[i] = o.alpha * m[i] + (1 - o.alpha) * d;
        avg = std::sqrt(v[i] - m[i] * m[i]) + o.eps;
      } else {
        avg = std::sqrt(v[i]) + o.eps;
      }
      if (o.momentum > 0) {
        b[i] = o.momentum * b[i] + d / avg;
        x -= o.lr * b[i];
      } else {
        x -= o.lr * d / avg;
      }
    });
  }
}

namespace {
// Adam's rule with eps after the bias-corrected root; AMSGrad keeps the running max of v.
struct AdamRef {
  double lr, b1, b2, eps, l2, decoupled;
  bool amsgrad, maximize;
  std::vector<double> m = std::vector<double>(6), v = std::vector<double>(6),
                      vmax = std::vector<double>(6);
  void operator()(int t, std::size_t i, double& x, double g) {
    x *= 1 - lr * decoupled;  // AdamW: decay the weight first, on its own
    const double d = (maximize ? -g : g) + l2 * x;
    m[i] = b1 * m[i] + (1 - b1) * d;
    v[i] = b2 * v[i] + (1 - b2) * d * d;
    vmax[i] = std::max(vmax[i], v[i]);
    const double bc1 = 1 - std::pow(b1, t), bc2 = 1 - std::pow(b2, t);
    x -= lr / bc1 * m[i] / (std::sqrt(amsgrad ? vmax[i] : v[i]) / std::sqrt(bc2) + eps);
  }
};
}  // namespace

TEST_CASE("adam: trajectories, plain, L2, AMSGrad's max and maximize") {
  const optim::AdamOptions cases[] = {
      {.lr = 0.05},
      {.lr = 0.05, .betas = {0.8, 0.99}, .eps = 1e-4},
      {.lr = 0.05, .weight_decay = 0.1},
      {.lr = 0.05, .amsgrad = true},
      {.lr = 0.05, .betas = {0.5, 0.9}, .weight_decay = 0.05, .amsgrad = true, .maximize = true},
  };
  for (const auto& o : cases) {
    tg::Tensor w = Quartic().start();
    optim::Adam opt({w}, o);
    AdamRef ref{o.lr, o.betas.first, o.betas.second, o.eps, o.weight_decay,
                0,    o.amsgrad,     o.maximize};
    check_trajectory(opt, w, std::ref(ref), 12);
  }
}

TEST_CASE("adamw: trajectories, decay applied to the weight before the Adam step") {
  const optim::AdamWOptions cases[] = {
      {.lr = 0.05},
      {.lr = 0.05, .weight_decay = 0.3, .amsgrad = true},
      {.lr = 0.05, .betas = {0.7, 0.95}, .weight_decay = 0.0},
  };
  for (const auto& o : cases) {
    tg::Tensor w = Quartic().start();
    optim::AdamW opt({w}, o);
    AdamRef ref{o.lr, o.betas.first,  o.betas.second, o.eps,
                0,    o.weight_decay, o.amsgrad,      o.maximize};
    check_trajectory(opt, w, std::ref(ref), 12);
  }
}

TEST_CASE("adamax: trajectories with eps inside the max") {
  for (const optim::AdamaxOptions& o :
       {optim::AdamaxOptions{},
        optim::AdamaxOptions{.lr = 0.05, .betas = {0.8, 0.9}, .eps = 1e-3, .weight_decay = 0.1}}) {
    tg::Tensor w = Quartic().start();
    optim::Adamax opt({w}, o);
    std::vector<double> m(6), u(6);
    check_trajectory(opt, w, [&](int t, std::size_t i, double& x, double g) {
      const double d = g + o.weight_decay * x;
      m[i] = o.betas.first * m[i] + (1 - o.betas.first) * d;
      u[i] = std::max(o.betas.second * u[i], std::abs(d) + o.eps);
      x -= o.lr / (1 - std::pow(o.betas.first, t)) * m[i] / u[i];
    });
  }
}

TEST_CASE("adadelta: trajectories") {
  for (const optim::AdadeltaOptions& o :
       {optim::AdadeltaOptions{},
        optim::AdadeltaOptions{.lr = 0.5, .rho = 0.95, .eps = 1e-4, .weight_decay = 0.1}}) {
    tg::Tensor w = Quartic().start();
    optim::Adadelta opt({w}, o);
    std::vector<double> v(6), u(6);
    check_trajectory(opt, w, [&](int, std::size_t i, double& x, double g) {
      const double d = g + o.weight_decay * x;
      v[i] = o.rho * v[i] + (1 - o.rho) * d * d;
      const double delta = std::sqrt(u[i] + o.eps) / std::sqrt(v[i] + o.eps) * d;
      u[i] = o.rho * u[i] + (1 - o.rho) * delta * delta;
      x -= o.lr * delta;
    });
  }
}

TEST_CASE("nadam: trajectories with momentum decay") {
  for (const optim::NAdamOptions& o :
       {optim::NAdamOptions{},
        optim::NAdamOptions{
            .lr = 0.05, .betas = {0.8, 0.99}, .weight_decay = 0.1, .momentum_decay = 0.01}}) {
    tg::Tensor w = Quartic().start();
    optim::NAdam opt({w}, o);
    std::vector<double> m(6), v(6), prod(6, 1.0);
    const double b1 = o.betas.first, b2 = o.betas.second;
    check_trajectory(opt, w, [&](int t, std::size_t i, double& x, double g) {
      const double d = g + o.weight_decay * x;
      const double mu = b1 * (1 - 0.5 * std::pow(0.96, t * o.momentum_decay));
      const double mu_next = b1 * (1 - 0.5 * std::pow(0.96, (t + 1) * o.momentum_decay));
      prod[i] *= mu;
      m[i] = b1 * m[i] + (1 - b1) * d;
      v[i] = b2 * v[i] + (1 - b2) * d * d;
      const double denom = std::sqrt(v[i] / (1 - std::pow(b2, t))) + o.eps;
      x -= o.lr * (1 - mu) / (1 - prod[i]) * d / denom;
      x -= o.lr * mu_next / (1 - prod[i] * mu_next) * m[i] / denom;
    });
  }
}

TEST_CASE("nadam: follows the corrected mu product, not torch 1.13's single-tensor default") {
  // loss = |A w - b|^2, lr 0.1, two steps. Values printed by Debian's python3-torch 1.13.0a0:
  //   torch.optim.NAdam([w], lr=0.1, foreach=True)   (the multi-tensor path: mu_product * mu_next)
  //   torch.optim.NAdam([w], lr=0.1, foreach=False)  (1.13's default: mu_product * mu * mu_next)
  // 1.13's single-tensor path multiplies mu in twice (fixed upstream in 2023); tapegrad keeps
  // the corrected product, so it matches the multi-tensor path and differs from the default
  // by 1.2e-3 here.
  tg::Tensor A = tg::tensor({1.0, 2.0, 3.0, -1.0, 0.5, 0.25}, {3, 2}, {.dtype = tg::kFloat64});
  tg::Tensor b = tg::tensor({1.0, -2.0, 0.5}, {3, 1}, {.dtype = tg::kFloat64});
  tg::Tensor w = leaf_of({0.3, -0.4}, {2, 1});
  optim::NAdam opt({w}, {.lr = 0.1});
  for (int step = 0; step < 2; ++step) {
    opt.zero_grad();
    tg::pow(tg::matmul(A, w) - b, 2).sum().backward();
    opt.step();
  }
  const std::vector<double> torch_foreach = {0.12158061339894774, -0.21965469664922094};
  const std::vector<double> torch_default = {0.1227206947074072, -0.22081121518573063};
  check_values(w, torch_foreach, 1e-12);
  const std::vector<double> got = w.to_vector<double>();
  CHECK(std::abs(got[0] - torch_default[0]) == doctest::Approx(1.1401e-3).epsilon(1e-3));
}

TEST_CASE("optimizers: hyperparameters are validated by name") {
  tg::Tensor w = leaf({2});
  CHECK_THROWS_WITH_AS(optim::Adam({w}, {.betas = {1.2, 0.999}}),
                       doctest::Contains("Adam: beta1 must be in [0, 1), got 1.2"), tg::ValueError);
  CHECK_THROWS_WITH_AS(optim::SGD({w}), doctest::Contains("SGD: lr must be >= 0 (set it"),
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(
      optim::SGD({w}, {.lr = 0.1, .nesterov = true}),
      doctest::Contains("SGD: nesterov must be used with momentum > 0 and dampening 0"),
      tg::ValueError);
  CHECK_THROWS_WITH_AS(optim::RMSprop({w}, {.alpha = -1}),
                       doctest::Contains("RMSprop: alpha must be >= 0"), tg::ValueError);
  CHECK_THROWS_WITH_AS(optim::Adagrad({w}, {.lr_decay = -1}),
                       doctest::Contains("Adagrad: lr_decay"), tg::ValueError);
  CHECK_THROWS_WITH_AS(optim::AdamW({w}, {.eps = -1}), doctest::Contains("AdamW: eps must be >= 0"),
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(optim::RAdam({w}, {.betas = {0.9, 1.0}}),
                       doctest::Contains("RAdam: beta2 must be in [0, 1), got 1"), tg::ValueError);
  CHECK_THROWS_WITH_AS(optim::Rprop({w}, {.etas = {0.5, 0.9}}),
                       doctest::Contains("Rprop: etas.second (eta_plus) must be > 1, got 0.9"),
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(optim::Rprop({w}, {.etas = {0, 1.2}}),
                       doctest::Contains("Rprop: etas.first (eta_minus) must be in (0, 1)"),
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(optim::Rprop({w}, {.step_sizes = {1, 0.5}}),
                       doctest::Contains("Rprop: step_sizes.second (max) must be >= step_sizes"),
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(optim::ASGD({w}, {.lambd = -1}),
                       doctest::Contains("ASGD: lambd must be >= 0, got -1"), tg::ValueError);
  CHECK_THROWS_WITH_AS(optim::ASGD({w}, {.t0 = -1}), doctest::Contains("ASGD: t0 must be >= 0"),
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(optim::Adam({w * 2.0}),
                       doctest::Contains("must be a leaf that requires grad"), tg::ValueError);
  CHECK_THROWS_WITH_AS(optim::Adam({w, w}), doctest::Contains("appears twice"), tg::ValueError);
}

TEST_CASE("optimizers: a frozen leaf is accepted, left unchanged and given no state") {
  // The fine-tuning script: freeze the backbone, then hand model.parameters() to the optimizer
  // (defect: the optimizer refused the frozen parameters).
  tg::manual_seed(3);
  tg::nn::Sequential model(tg::nn::Linear(4, 6), tg::nn::Tanh(), tg::nn::Linear(6, 2));
  model.to(tg::kFloat64);
  const std::vector<tg::Tensor> ps = model.parameters();
  for (std::size_t i = 0; i < 2; ++i) ps[i].requires_grad_(false);  // the first layer: frozen
  std::vector<std::vector<double>> before;
  for (const tg::Tensor& p : ps) before.push_back(p.to_vector<double>());
  const tg::Tensor x = tg::randn({5, 4}, {.dtype = tg::kFloat64});
  auto run = [&](optim::Optimizer& opt) {
    for (int s = 0; s < 3; ++s) {
      opt.zero_grad();
      tg::Tensor loss = model(x).square().sum();
      loss.backward();
      opt.step();
    }
    for (std::size_t i = 0; i < ps.size(); ++i) {
      INFO("parameter " << i);
      CHECK((ps[i].to_vector<double>() == before[i]) == (i < 2));
      CHECK((opt.state(i).step == 0) == (i < 2));
      const auto& buffers = opt.state(i).buffers;
      if (i < 2)
        for (const tg::Tensor& b : buffers) CHECK_FALSE(b.defined());
      else
        CHECK(buffers.at(0).defined());
    }
  };
  optim::Adam adam(model.named_parameters(), {.lr = 0.1});
  run(adam);
  tg::Archive ar;  // its state saves and loads with the frozen ones in it
  adam.save_state(ar);
  optim::Adam again(model.named_parameters(), {.lr = 0.1});
  CHECK_NOTHROW(again.load_state(ar));
  for (std::size_t i = 2; i < ps.size(); ++i) before[i] = ps[i].to_vector<double>();
  optim::SGD sgd(ps, {.lr = 0.1, .momentum = 0.9});
  run(sgd);
  optim::LBFGS lbfgs(ps, {.lr = 0.5, .max_iter = 3});
  lbfgs.step([&] {
    lbfgs.zero_grad();
    tg::Tensor loss = model(x).square().sum();
    loss.backward();
    return loss;
  });
  CHECK(ps[0].to_vector<double>() == before[0]);
  CHECK(ps[1].to_vector<double>() == before[1]);
  // Non-leaves and integer tensors are still refused by name.
  CHECK_THROWS_WITH_AS(optim::Adam({ps[2] * 2.0}), doctest::Contains("not the result of op 'mul'"),
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(optim::SGD({tg::zeros({2}, {.dtype = tg::kInt64})}, {.lr = 0.1}),
                       doctest::Contains("parameter '0' is int64; parameters are floating-point"),
                       tg::ValueError);
}
