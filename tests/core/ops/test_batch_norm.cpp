// batch_norm: PyTorch's own outputs, updated running statistics and gradients
// (tests/reference/batch_norm.json) in training and evaluation, with and without affine parameters,
// over (N, C), (N, C, L) and (N, C, H, W); finite-difference gradients; errors.
#include "../../torch_data.h"
#include "../helpers.h"

TEST_CASE("batch_norm: torch 1.13's outputs, running statistics and gradients") {
  const auto cases = torch_data::cases("batch_norm.json");
  CHECK(cases.size() == 5);
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const auto& c = cases[i];
    const auto& o = c.at("options");
    INFO("case " << i << ": " << o.dump());
    const std::vector<tg::Tensor> in = torch_data::leaves(c);
    const tg::Tensor rm = torch_data::tensor(c.at("running_in")[0]),
                     rv = torch_data::tensor(c.at("running_in")[1]);
    const tg::Tensor y = tg::batch_norm(
        in[0], rm, rv, in[1], in[2],
        {.training = o.at("training"), .momentum = o.at("momentum"), .eps = o.at("eps")});
    check_values(rm, torch_data::tensor(c.at("running_out")[0]).to_vector<double>());
    check_values(rv, torch_data::tensor(c.at("running_out")[1]).to_vector<double>());
    torch_data::check_case(c, in, y, 1e-10);
  }
}

TEST_CASE("batch_norm: finite-difference gradients in training and evaluation, float32") {
  tg::Tensor x = leaf({3, 2, 4, 3}), w = leaf({2}, 8), b = leaf({2}, 9);
  const tg::Tensor mix = leaf({3, 2, 4, 3}, 10).detach();
  for (bool training : {true, false}) {
    INFO("training " << training);
    tg::Tensor rm = tg::zeros({2}, {.dtype = tg::kFloat64}),
               rv = tg::ones({2}, {.dtype = tg::kFloat64});
    check_gradient(
        [&] { return (tg::batch_norm(x, rm, rv, w, b, {.training = training}) * mix).sum(); },
        {x, w, b});
  }
  // Without running statistics (torch's track_running_stats=False) and without affine.
  check_gradient([&] { return (tg::batch_norm(x, {}, {}, {}, {}) * mix).sum(); }, {x});
  tg::Tensor rm = tg::zeros({2}), rv = tg::ones({2});
  const tg::Tensor y32 =
      tg::batch_norm(x.to(tg::kFloat32), rm, rv, w.to(tg::kFloat32), b.to(tg::kFloat32));
  check_values(y32.to(tg::kFloat64), tg::batch_norm(x, {}, {}, w, b).to_vector<double>(), 1e-5);
}

TEST_CASE("batch_norm: errors name what does not fit") {
  const tg::Tensor x = tg::zeros({4, 3, 2}), v3 = tg::zeros({3});
  CHECK_THROWS_WITH_AS(tg::batch_norm(tg::zeros({1, 3}), v3, tg::ones({3}), {}, {}),
                       "batch_norm: expected more than 1 value per channel when training, got "
                       "input size [1, 3]",
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(tg::batch_norm(x, tg::zeros({2}), v3, {}, {}),
                       "batch_norm: running_mean must be (3) for the input [4, 3, 2]: got [2]",
                       tg::ShapeError);
  CHECK_THROWS_WITH_AS(tg::batch_norm(x, {}, {}, v3.to(tg::kFloat64), {}),
                       "batch_norm: weight is float64 but the input is float32", tg::ValueError);
  CHECK_THROWS_WITH_AS(tg::batch_norm(x, {}, {}, {}, {}, {.training = false}),
                       "batch_norm: evaluation needs running_mean and running_var", tg::ValueError);
  CHECK_THROWS_WITH_AS(tg::batch_norm(x, v3, {}, {}, {}),
                       "batch_norm: running_mean and running_var come together (or neither)",
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(tg::batch_norm(tg::zeros({4}), {}, {}, {}, {}),
                       "batch_norm: the input must be (N, C, ...): got [4]", tg::ShapeError);
  CHECK_THROWS_WITH_AS(tg::batch_norm(x, {}, {}, {}, {}, {.momentum = 2}),
                       "batch_norm: momentum must be in [0, 1], got 2", tg::ValueError);
}
