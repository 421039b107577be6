// Learning-rate schedules: 30 epochs of each against the documented closed forms.
#include <cmath>
#include <numbers>

#include "../core/helpers.h"

namespace optim = tg::optim;

namespace {
struct Setup {
  tg::Tensor w = leaf({2});
  optim::SGD opt{{w}, {.lr = 0.1}};
};

template <typename F>
void check_sequence(optim::LRScheduler& s, F expected, int epochs = 30) {
  for (int e = 0; e < epochs; ++e) {
    INFO("epoch " << e << ": got " << s.get_last_lr()[0] << ", expected " << expected(e));
    CHECK(std::abs(s.get_last_lr()[0] - expected(e)) <= 1e-10 * std::abs(expected(e)) + 1e-15);
    s.step();
  }
}
}  // namespace

TEST_CASE("step_lr: decays by gamma every step_size epochs") {
  Setup st;
  optim::StepLR s(st.opt, 7, 0.5);
  check_sequence(s, [](int e) { return 0.1 * std::pow(0.5, e / 7); });
  CHECK(st.opt.lr() == s.get_last_lr()[0]);
}

TEST_CASE("multi_step_lr: decays at each milestone, repeats counting twice") {
  Setup st;
  optim::MultiStepLR s(st.opt, {20, 5, 12, 12}, 0.3);
  check_sequence(s,
                 [](int e) { return 0.1 * std::pow(0.3, (e >= 5) + 2 * (e >= 12) + (e >= 20)); });
}

TEST_CASE("exponential_lr: multiplies by gamma each epoch") {
  Setup st;
  optim::ExponentialLR s(st.opt, 0.9);
  check_sequence(s, [](int e) { return 0.1 * std::pow(0.9, e); });
}

TEST_CASE("cosine_annealing_lr: follows the cosine, past T_max too") {
  Setup st;
  optim::CosineAnnealingLR s(st.opt, 10, 0.001);
  check_sequence(s, [](int e) {
    return 0.001 + (0.1 - 0.001) * (1 + std::cos(std::numbers::pi * e / 10)) / 2;
  });
}

TEST_CASE("linear_lr: warms up linearly, then holds") {
  Setup st;
  optim::LinearLR s(st.opt, 0.25, 1.0, 8);
  check_sequence(s, [](int e) { return 0.1 * (0.25 + 0.75 * std::min(e, 8) / 8.0); });
}

TEST_CASE("constant_lr/polynomial_lr/multiplicative_lr: values, and step_to's closed form") {
  Setup a;
  optim::ConstantLR c(a.opt, 0.5, 4);
  check_sequence(c, [](int e) { return e < 4 ? 0.05 : 0.1; });
  Setup b;
  optim::PolynomialLR p(b.opt, 10, 2);
  check_sequence(p, [](int e) { return 0.1 * std::pow(1 - std::min(e, 10) / 10.0, 2); });
  Setup d;
  optim::MultiplicativeLR m(d.opt, [](std::int64_t) { return 0.9; });
  check_sequence(m, [](int e) { return 0.1 * std::pow(0.9, e); });
  for (std::int64_t e : {0, 3, 4, 9, 15}) {  // jumping to an epoch gives the chained value
    Setup x, y;
    optim::PolynomialLR chained(x.opt, 10, 2), jumped(y.opt, 10, 2);
    for (std::int64_t k = 0; k < e; ++k) chained.step();
    jumped.step_to(e);
    CHECK(jumped.get_last_lr()[0] == doctest::Approx(chained.get_last_lr()[0]).epsilon(1e-12));
    Setup u, v;
    optim::ConstantLR cc(u.opt, 0.25, 4), cj(v.opt, 0.25, 4);
    for (std::int64_t k = 0; k < e; ++k) cc.step();
    cj.step_to(e);
    CHECK(cj.get_last_lr()[0] == doctest::Approx(cc.get_last_lr()[0]).epsilon(1e-12));
  }
  Setup z;
  CHECK_THROWS_WITH_AS(optim::ConstantLR(z.opt, 1.5),
                       doctest::Contains("ConstantLR: factor must be in [0, 1]"), tg::ValueError);
  CHECK_THROWS_WITH_AS(optim::PolynomialLR(z.opt, 0),
                       doctest::Contains("PolynomialLR: total_iters must be >= 1"), tg::ValueError);
  CHECK_THROWS_WITH_AS(optim::MultiplicativeLR(z.opt, nullptr),
                       doctest::Contains("MultiplicativeLR: the function is empty"),
                       tg::ValueError);
}

TEST_CASE("lambda_lr: any function of the epoch") {
  Setup st;
  optim::LambdaLR s(st.opt,
                    [](std::int64_t e) { return 1.0 / (1.0 + 0.5 * static_cast<double>(e)); });
  check_sequence(s, [](int e) { return 0.1 / (1 + 0.5 * e); });
}

TEST_CASE("sequential_lr: a linear warm-up then cosine annealing") {
  Setup st;
  auto warm = std::make_shared<optim::LinearLR>(st.opt, 0.1, 1.0, 5);
  auto cosine = std::make_shared<optim::CosineAnnealingLR>(st.opt, 20);
  optim::SequentialLR s(st.opt, {warm, cosine}, {5});
  check_sequence(s, [](int e) {
    if (e < 5) return 0.1 * (0.1 + 0.9 * e / 5.0);
    return 0.1 * (1 + std::cos(std::numbers::pi * (e - 5) / 20)) / 2;
  });
}

TEST_CASE("schedulers: every group follows its own base lr") {
  tg::Tensor a = leaf({2}), b = leaf({2}, 8);
  optim::SGD opt({a}, {.lr = 0.1});
  opt.add_param_group(std::vector<tg::Tensor>{b}, {.lr = 0.01, .momentum = 0.9});
  optim::StepLR s(opt, 2, 0.5);
  for (int e = 0; e < 5; ++e) s.step();
  CHECK(opt.lr(0) == doctest::Approx(0.1 * 0.25));
  CHECK(opt.lr(1) == doctest::Approx(0.01 * 0.25));
  CHECK(opt.options(1).momentum == 0.9);
}

TEST_CASE("reduce_lr_on_plateau: reduces after patience bad epochs, then cools down") {
  Setup st;
  optim::ReduceLROnPlateau s(
      st.opt, {.factor = 0.5, .patience = 2, .threshold = 0.01, .cooldown = 1, .min_lr = 0.02});
  // Relative threshold: 0.995 is not better than 1.0 * (1 - 0.01).
  const double metric[] = {1.0,  0.995, 0.993, 0.999, 0.98, 0.97, 0.97,
                           0.97, 0.97,  0.97,  0.97,  0.97, 0.97, 0.97};
  const double lr_after[] = {0.1,  0.1,   0.1,   0.05,  0.05,  0.05, 0.05,
                             0.05, 0.025, 0.025, 0.025, 0.025, 0.02, 0.02};
  for (std::size_t e = 0; e < std::size(metric); ++e) {
    s.step(metric[e]);
    INFO("epoch " << e << " metric " << metric[e]);
    CHECK(st.opt.lr() == doctest::Approx(lr_after[e]));
  }
  CHECK(s.best() == 0.97);
}

TEST_CASE("reduce_lr_on_plateau: max mode with an absolute threshold") {
  Setup st;
  optim::ReduceLROnPlateau s(
      st.opt, {.mode = optim::ReduceLROnPlateauOptions::Mode::Max,
               .factor = 0.1,
               .patience = 0,
               .threshold = 0.05,
               .threshold_mode = optim::ReduceLROnPlateauOptions::ThresholdMode::Abs});
  s.step(0.5);  // better than -inf
  CHECK(st.opt.lr() == doctest::Approx(0.1));
  s.step(0.54);  // not better than 0.5 + 0.05
  CHECK(st.opt.lr() == doctest::Approx(0.01));
  s.step(0.56);  // better than 0.55
  CHECK(st.opt.lr() == doctest::Approx(0.01));
}

TEST_CASE("schedulers: bad arguments are named") {
  Setup st;
  CHECK_THROWS_WITH_AS(optim::StepLR(st.opt, 0),
                       doctest::Contains("StepLR: step_size must be >= 1"), tg::ValueError);
  CHECK_THROWS_WITH_AS(optim::ReduceLROnPlateau(st.opt, {.factor = 1.5}),
                       doctest::Contains("factor must be in [0, 1)"), tg::ValueError);
  CHECK_THROWS_AS(optim::LinearLR(st.opt, 0.0), tg::ValueError);
  Setup fresh;  // no schedule has set an initial lr: there is nothing to resume from
  CHECK_THROWS_WITH_AS(optim::StepLR(fresh.opt, 2, 0.1, 5),
                       doctest::Contains("StepLR: last_epoch 5 resumes a schedule, which needs "
                                         "every group's initial_lr"),
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(optim::CosineAnnealingLR(st.opt, INT64_MAX),
                       doctest::Contains("CosineAnnealingLR: T_max must be at most 2^62"),
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(optim::ExponentialLR(st.opt, 0.9, INT64_MAX),
                       doctest::Contains("ExponentialLR: last_epoch must be at most 2^62"),
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(optim::ExponentialLR(st.opt, 0.9, -2),
                       doctest::Contains("ExponentialLR: last_epoch must be >= -1, got -2"),
                       tg::ValueError);
  CHECK_THROWS_AS(optim::SequentialLR(st.opt, {std::make_shared<optim::StepLR>(st.opt, 2)}, {3}),
                  tg::ValueError);
}
