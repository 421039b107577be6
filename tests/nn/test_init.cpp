// nn::init: gains, fans, and the bounds and spreads of each initialiser.
#include "../core/helpers.h"

namespace init = tg::nn::init;

TEST_CASE("init: calculate_gain matches torch.nn.init") {
  CHECK(init::calculate_gain("linear") == 1);
  CHECK(init::calculate_gain("sigmoid") == 1);
  CHECK(init::calculate_gain("tanh") == doctest::Approx(5.0 / 3));
  CHECK(init::calculate_gain("relu") == doctest::Approx(std::sqrt(2.0)));
  CHECK(init::calculate_gain("leaky_relu") == doctest::Approx(std::sqrt(2 / (1 + 1e-4))));
  CHECK(init::calculate_gain("leaky_relu", std::sqrt(5.0)) == doctest::Approx(std::sqrt(1 / 3.0)));
  CHECK(init::calculate_gain("selu") == 0.75);
  CHECK_THROWS_WITH_AS(init::calculate_gain("swish"),
                       doctest::Contains("unknown nonlinearity 'swish'"), tg::ValueError);
}

TEST_CASE("init: fans of 2-D and higher tensors") {
  CHECK(init::calculate_fan_in_and_fan_out(tg::zeros({30, 100})) ==
        std::pair<std::int64_t, std::int64_t>{100, 30});
  CHECK(init::calculate_fan_in_and_fan_out(tg::zeros({8, 3, 5, 5})) ==
        std::pair<std::int64_t, std::int64_t>{75, 200});
  CHECK_THROWS_AS(init::calculate_fan_in_and_fan_out(tg::zeros({5})), tg::ValueError);
}

namespace {
double stddev(const tg::Tensor& t) {
  const tg::Tensor d = t.to(tg::kFloat64);
  const double m = d.mean().item();
  return std::sqrt(((d - m) * (d - m)).mean().item());
}
double max_abs(const tg::Tensor& t) { return tg::abs(t).max().item(); }
}  // namespace

TEST_CASE("init: uniform and normal families have the documented spread") {
  tg::Generator gen(4);
  tg::Tensor w = tg::empty({200, 300});
  const double xu = std::sqrt(6.0 / 500);
  init::xavier_uniform_(w, 1, &gen);
  CHECK(max_abs(w) <= xu);
  CHECK(stddev(w) == doctest::Approx(xu / std::sqrt(3.0)).epsilon(0.03));
  init::xavier_normal_(w, 2, &gen);
  CHECK(stddev(w) == doctest::Approx(2 * std::sqrt(2.0 / 500)).epsilon(0.03));
  init::kaiming_uniform_(w, 0, init::FanMode::FanIn, "relu", &gen);
  const double ku = std::sqrt(2.0) * std::sqrt(3.0 / 300);
  CHECK(max_abs(w) <= ku);
  CHECK(stddev(w) == doctest::Approx(ku / std::sqrt(3.0)).epsilon(0.03));
  init::kaiming_normal_(w, 0, init::FanMode::FanOut, "relu", &gen);
  CHECK(stddev(w) == doctest::Approx(std::sqrt(2.0 / 200)).epsilon(0.03));
  init::normal_(w, 3, 0.5, &gen);
  CHECK(w.mean().item() == doctest::Approx(3).epsilon(0.01));
  init::uniform_(w, -2, -1, &gen);
  CHECK(w.max().item() <= -1);
  init::constant_(w, 0.5);
  CHECK(w.mean().item() == 0.5);
  init::zeros_(w);
  CHECK(w.abs().sum().item() == 0);
  init::ones_(w);
  CHECK(w.sum().item() == 60000);
}

TEST_CASE("init: works on parameters without recording, reproducibly") {
  tg::Tensor p = tg::zeros({3, 4}, {.requires_grad = true});
  tg::manual_seed(9);
  init::xavier_uniform_(p);
  const auto first = p.to_vector<float>();
  tg::manual_seed(9);
  init::xavier_uniform_(p);
  CHECK(p.to_vector<float>() == first);
  CHECK(p.is_leaf());
  CHECK(tg::tape_stats().entries == 0);
  CHECK_THROWS_AS(init::normal_(p, 0, -1), tg::ValueError);
}
