// layer_norm and group_norm: PyTorch's own outputs and gradients (tests/reference/layer_norm.json),
// a direct loop implementation, finite-difference gradients with and without affine parameters,
// float32, and errors.
#include "../../torch_data.h"
#include "../helpers.h"

namespace {
// Group g of sample n over (N, C, S): mean and biased variance by plain loops, then the affine.
std::vector<double> group_norm_loops(const std::vector<double>& x, std::int64_t N, std::int64_t C,
                                     std::int64_t S, std::int64_t G, const std::vector<double>& w,
                                     const std::vector<double>& b, double eps) {
  std::vector<double> y(x.size());
  const std::int64_t cg = C / G;
  for (std::int64_t n = 0; n < N; ++n)
    for (std::int64_t g = 0; g < G; ++g) {
      double mean = 0, var = 0;
      for (std::int64_t c = g * cg; c < (g + 1) * cg; ++c)
        for (std::int64_t s = 0; s < S; ++s) mean += x[(n * C + c) * S + s];
      mean /= static_cast<double>(cg * S);
      for (std::int64_t c = g * cg; c < (g + 1) * cg; ++c)
        for (std::int64_t s = 0; s < S; ++s)
          var += (x[(n * C + c) * S + s] - mean) * (x[(n * C + c) * S + s] - mean);
      var /= static_cast<double>(cg * S);
      for (std::int64_t c = g * cg; c < (g + 1) * cg; ++c)
        for (std::int64_t s = 0; s < S; ++s) {
          const std::size_t i = static_cast<std::size_t>((n * C + c) * S + s);
          y[i] = (x[i] - mean) / std::sqrt(var + eps) * (w.empty() ? 1 : w[c]) +
                 (b.empty() ? 0 : b[c]);
        }
    }
  return y;
}
}  // namespace

TEST_CASE("layer_norm and group_norm: torch 1.13's outputs and gradients") {
  const auto cases = torch_data::cases("layer_norm.json");
  CHECK(cases.size() == 9);
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const auto& c = cases[i];
    const auto& o = c.at("options");
    INFO("case " << i << ": " << o.dump());
    const std::vector<tg::Tensor> in = torch_data::leaves(c);
    const tg::Tensor &x = in[0], &w = in[1], &b = in[2];
    const tg::Tensor y =
        o.at("op") == "layer_norm"
            ? tg::layer_norm(x, o.at("normalized_shape").get<tg::Shape>(), w, b, o.at("eps"))
            : tg::group_norm(x, o.at("num_groups"), w, b, o.at("eps"));
    torch_data::check_case(c, in, y, 1e-10);
  }
}

TEST_CASE("group_norm and layer_norm: values equal a direct loop implementation") {
  const tg::Tensor x = leaf({3, 6, 2, 5}, 3).detach() * 2 + 1;
  const tg::Tensor w = leaf({6}, 4).detach(), b = leaf({6}, 5).detach();
  for (std::int64_t groups : {1, 2, 3, 6}) {
    INFO("groups " << groups);
    check_values(tg::group_norm(x, groups, w, b, 1e-3),
                 group_norm_loops(x.to_vector<double>(), 3, 6, 10, groups, w.to_vector<double>(),
                                  b.to_vector<double>(), 1e-3));
  }
  check_values(tg::group_norm(x, 2),
               group_norm_loops(x.to_vector<double>(), 3, 6, 10, 2, {}, {}, 1e-5));
  // layer_norm over the last two dims of (3, 6, 2, 5) is group_norm of (18, 1, 10) with 1 group
  // whose affine runs over the 10 positions: check it with the same loops on S = 1 per position.
  const tg::Tensor lw = leaf({2, 5}, 6).detach(), lb = leaf({2, 5}, 8).detach();
  const std::vector<double> plain =
      group_norm_loops(x.to_vector<double>(), 18, 10, 1, 1, {}, {}, 1e-5);
  std::vector<double> expected(plain.size());
  for (std::size_t i = 0; i < plain.size(); ++i)
    expected[i] = plain[i] * lw.to_vector<double>()[i % 10] + lb.to_vector<double>()[i % 10];
  check_values(tg::layer_norm(x, {2, 5}, lw, lb), expected);
}

TEST_CASE("layer_norm and group_norm: finite-difference gradients, float32 against float64") {
  tg::Tensor x = leaf({3, 4, 5}), w = leaf({4, 5}, 8), b = leaf({4, 5}, 9);
  const tg::Tensor mix = leaf({3, 4, 5}, 10).detach();
  check_gradient([&] { return (tg::layer_norm(x, {4, 5}, w, b) * mix).sum(); }, {x, w, b});
  check_gradient([&] { return (tg::layer_norm(x, {5}) * mix).sum(); }, {x});
  tg::Tensor gx = leaf({2, 6, 3, 2}, 11), gw = leaf({6}, 12), gb = leaf({6}, 13);
  const tg::Tensor gmix = leaf({2, 6, 3, 2}, 14).detach();
  for (std::int64_t groups : {1, 3, 6}) {
    INFO("groups " << groups);
    check_gradient([&] { return (tg::group_norm(gx, groups, gw, gb) * gmix).sum(); }, {gx, gw, gb});
  }
  check_gradient([&] { return (tg::group_norm(gx, 2, {}, gb) * gmix).sum(); }, {gx, gb});
  const tg::Tensor y32 =
      tg::group_norm(gx.to(tg::kFloat32), 3, gw.to(tg::kFloat32), gb.to(tg::kFloat32));
  check_values(y32.to(tg::kFloat64), tg::group_norm(gx, 3, gw, gb).to_vector<double>(), 1e-5);
  const tg::Tensor l32 = tg::layer_norm(x.to(tg::kFloat32), {4, 5}, w.to(tg::kFloat32), {});
  check_values(l32.to(tg::kFloat64), tg::layer_norm(x, {4, 5}, w).to_vector<double>(), 1e-5);
}

TEST_CASE("layer_norm and group_norm: a constant row normalises to zero, without NaN") {
  const tg::Tensor x = tg::full({2, 4}, 3.0, {.dtype = tg::kFloat64});
  check_values(tg::layer_norm(x, {4}), std::vector<double>(8, 0.0));
  check_values(tg::group_norm(x.view({2, 4, 1}), 2), std::vector<double>(8, 0.0));
}

TEST_CASE("layer_norm and group_norm: errors name what does not fit") {
  const tg::Tensor x = tg::zeros({2, 3, 4});
  CHECK_THROWS_WITH_AS(tg::layer_norm(x, {3}),
                       "layer_norm: normalized_shape [3] must be the last dims of the input: got "
                       "input [2, 3, 4]",
                       tg::ShapeError);
  CHECK_THROWS_WITH_AS(tg::layer_norm(x, {1, 2, 3, 4}),
                       "layer_norm: normalized_shape [1, 2, 3, 4] must be the last dims of the "
                       "input: got input [2, 3, 4]",
                       tg::ShapeError);
  CHECK_THROWS_WITH_AS(tg::layer_norm(x, {}),
                       "layer_norm: normalized_shape must hold at least one dim: got []",
                       tg::ShapeError);
  CHECK_THROWS_WITH_AS(tg::layer_norm(x, {3, 4}, tg::ones({4})),
                       "layer_norm: weight must be [3, 4] for the input [2, 3, 4]: got [4]",
                       tg::ShapeError);
  CHECK_THROWS_WITH_AS(tg::layer_norm(x, {4}, {}, tg::ones({4}, {.dtype = tg::kFloat64})),
                       "layer_norm: bias is float64 but the input is float32", tg::ValueError);
  CHECK_THROWS_WITH_AS(tg::layer_norm(x, {4}, {}, {}, 0), "layer_norm: eps must be > 0, got 0",
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(tg::group_norm(x, 2),
                       "group_norm: num_groups must divide the 3 channels of the input [2, 3, 4]: "
                       "got 2",
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(tg::group_norm(x, 0),
                       "group_norm: num_groups must divide the 3 channels of the input [2, 3, 4]: "
                       "got 0",
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(tg::group_norm(tg::zeros({3}), 1),
                       "group_norm: the input must be (N, C, ...): got [3]", tg::ShapeError);
  CHECK_THROWS_WITH_AS(tg::group_norm(x, 3, tg::ones({4})),
                       "group_norm: weight must be [3] for the input [2, 3, 4]: got [4]",
                       tg::ShapeError);
  CHECK_THROWS_WITH_AS(tg::group_norm(tg::zeros({2, 3}, {.dtype = tg::kInt64}), 1),
                       "group_norm: needs a floating-point tensor: got int64; convert with "
                       ".to(kFloat32)",
                       tg::ValueError);
}
