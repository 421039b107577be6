// conv2d and conv1d: values against a direct loop written here, gradients by finite differences
// in float64 over odd sizes, strides, padding ("same" with even kernels too), dilation and
// groups (depthwise too), one input channel; against PyTorch's own numbers
// (tests/reference/conv.json); the chunked path for big batches; errors naming what does not fit.
#include "../../torch_data.h"
#include "../helpers.h"

namespace {
struct Case {
  std::int64_t N, C, H, W, O, kH, kW;
  tg::Conv2dOptions o;
  bool bias = true;
};

// y[n, o, i, j] = b[o] + sum over the group's channels and the kernel of w * x (zero outside).
std::vector<double> direct_conv(const tg::Tensor& x, const tg::Tensor& w, const tg::Tensor& b,
                                const Case& k, std::int64_t pT, std::int64_t pL, std::int64_t Ho,
                                std::int64_t Wo) {
  const auto xv = x.to_vector<double>(), wv = w.to_vector<double>();
  const auto bv = b.defined() ? b.to_vector<double>() : std::vector<double>(k.O, 0.0);
  const std::int64_t G = k.o.groups, Cg = k.C / G, Og = k.O / G;
  std::vector<double> y;
  for (std::int64_t n = 0; n < k.N; ++n)
    for (std::int64_t o = 0; o < k.O; ++o)
      for (std::int64_t i = 0; i < Ho; ++i)
        for (std::int64_t j = 0; j < Wo; ++j) {
          double s = bv[o];
          const std::int64_t grp = o / Og;
          for (std::int64_t c = 0; c < Cg; ++c)
            for (std::int64_t a = 0; a < k.kH; ++a)
              for (std::int64_t bb = 0; bb < k.kW; ++bb) {
                const std::int64_t ih = i * k.o.stride.h - pT + a * k.o.dilation.h;
                const std::int64_t iw = j * k.o.stride.w - pL + bb * k.o.dilation.w;
                if (ih < 0 || ih >= k.H || iw < 0 || iw >= k.W) continue;
                s += wv[((o * Cg + c) * k.kH + a) * k.kW + bb] *
                     xv[((n * k.C + grp * Cg + c) * k.H + ih) * k.W + iw];
              }
          y.push_back(s);
        }
  return y;
}

void check_case(const Case& k) {
  tg::Tensor x = leaf({k.N, k.C, k.H, k.W}, 3);
  tg::Tensor w = leaf({k.O, k.C / k.o.groups, k.kH, k.kW}, 4);
  tg::Tensor b = k.bias ? leaf({k.O}, 5) : tg::Tensor();
  const tg::Tensor y = tg::conv2d(x, w, b, k.o);
  std::int64_t pT = k.o.padding.h, pL = k.o.padding.w, pB = pT, pR = pL;
  if (k.o.padding.same) {
    const std::int64_t eH = k.o.dilation.h * (k.kH - 1), eW = k.o.dilation.w * (k.kW - 1);
    pT = eH / 2;
    pB = eH - pT;
    pL = eW / 2;
    pR = eW - pL;
  }
  const std::int64_t Ho = (k.H + pT + pB - k.o.dilation.h * (k.kH - 1) - 1) / k.o.stride.h + 1;
  const std::int64_t Wo = (k.W + pL + pR - k.o.dilation.w * (k.kW - 1) - 1) / k.o.stride.w + 1;
  CHECK(y.shape() == tg::Shape{k.N, k.O, Ho, Wo});
  check_values(y, direct_conv(x, w, b, k, pT, pL, Ho, Wo));
  std::vector<tg::Tensor> inputs{x, w};
  if (k.bias) inputs.push_back(b);
  // A weighted sum, so that every output element's gradient differs.
  const tg::Tensor mix = leaf(y.shape(), 6).detach();
  check_gradient([&] { return (tg::conv2d(x, w, b, k.o) * mix).sum(); }, inputs);
}
}  // namespace

TEST_CASE("conv2d: values and gradients over strides, padding, dilation and groups") {
  const std::vector<Case> cases{
      {2, 3, 7, 6, 4, 3, 3, {}},                                     // plain, odd sizes
      {2, 2, 7, 8, 3, 3, 2, {.stride = 2}},                          // stride 2, 3x2 kernel
      {1, 2, 6, 7, 2, 3, 3, {.stride = {2, 1}, .padding = {1, 2}}},  // uneven stride, padding
      {2, 2, 9, 8, 2, 3, 2, {.dilation = {2, 3}}},                   // dilation
      {2, 4, 5, 6, 6, 3, 3, {.padding = 1, .groups = 2}},            // groups
      {2, 3, 6, 5, 3, 3, 3, {.padding = 1, .groups = 3}},            // depthwise
      {1, 3, 5, 5, 6, 2, 2, {.groups = 3}},                          // depthwise, multiplier 2
      {2, 2, 6, 7, 3, 4, 2, {.padding = "same"}},                    // same, even kernel
      {1, 2, 7, 6, 2, 3, 3, {.padding = "same", .dilation = 2}},     // same, dilated
      {2, 3, 5, 4, 2, 1, 1, {}, false},                              // 1x1, no bias
      {1, 2, 4, 4, 2, 4, 4, {.padding = "valid"}},                   // kernel = input
      {3, 1, 8, 9, 2, 3, 3, {.stride = 3, .padding = 2, .dilation = 2}, false},
      // One input channel, unpadded, stride 1 (a first layer on grey images).
      {3, 1, 7, 6, 4, 3, 2, {}},
      {2, 1, 5, 9, 3, 1, 4, {}, false},
      {1, 1, 4, 4, 2, 4, 4, {}},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    INFO("case " << i);
    check_case(cases[i]);
  }
}

TEST_CASE("conv2d: float32 matches float64, an unbatched input, and no grad when none asked") {
  tg::Tensor x = leaf({2, 3, 6, 5}), w = leaf({4, 3, 3, 3}, 8), b = leaf({4}, 9);
  const tg::Tensor y64 = tg::conv2d(x, w, b, {.padding = 1});
  const tg::Tensor y32 =
      tg::conv2d(x.to(tg::kFloat32), w.to(tg::kFloat32), b.to(tg::kFloat32), {.padding = 1});
  CHECK(y32.dtype() == tg::kFloat32);
  check_values(y32.to(tg::kFloat64), y64.to_vector<double>(), 1e-5);
  const tg::Tensor one = tg::conv2d(x.narrow(0, 1, 1).reshape({3, 6, 5}), w, b, {.padding = 1});
  CHECK(one.shape() == tg::Shape{4, 6, 5});
  check_values(one, y64.narrow(0, 1, 1).to_vector<double>());
  tg::NoGradGuard no_grad;
  CHECK_FALSE(tg::conv2d(x, w, b).requires_grad());
}

TEST_CASE("conv2d: a batch bigger than one chunk of rows gives the per-sample results") {
  // 64 MB of float64 rows hold 5 of these samples (3600 positions x 400 entries): 7 make two
  // chunks, in the forward pass and in both gradients.
  tg::Tensor x = leaf({7, 16, 64, 64}, 11), w = leaf({3, 16, 5, 5}, 12), b = leaf({3}, 13);
  const tg::Tensor mix = leaf({7, 3, 60, 60}, 14).detach();
  (tg::conv2d(x, w, b) * mix).sum().backward();
  const std::vector<double> gx = x.grad().to_vector<double>(), gw = w.grad().to_vector<double>();
  x.zero_grad();
  w.zero_grad();
  std::vector<double> y_each;
  for (std::int64_t n = 0; n < 7; ++n) {
    const tg::Tensor yn = tg::conv2d(x.narrow(0, n, 1), w, b);
    for (double v : yn.detach().to_vector<double>()) y_each.push_back(v);
    (yn * mix.narrow(0, n, 1)).sum().backward();
  }
  check_values(tg::conv2d(x, w, b).detach(), y_each);
  check_values(x.grad(), gx);
  check_values(w.grad(), gw, 1e-10);
}

TEST_CASE("conv1d: values and gradients, as conv2d over a height of one") {
  tg::Tensor x = leaf({2, 4, 11}), w = leaf({6, 2, 3}, 21), b = leaf({6}, 22);
  const tg::Conv1dOptions o{.stride = 2, .padding = 2, .dilation = 2, .groups = 2};
  const tg::Tensor y = tg::conv1d(x, w, b, o);
  const tg::Tensor ref =
      tg::conv2d(x.reshape({2, 4, 1, 11}), w.reshape({6, 2, 1, 3}), b,
                 {.stride = {1, 2}, .padding = {0, 2}, .dilation = {1, 2}, .groups = 2});
  CHECK(y.shape() == tg::Shape{2, 6, 6});
  check_values(y, ref.to_vector<double>());
  check_gradient(
      [&] {
        return (tg::conv1d(x, w, b, o) * tg::arange(72).reshape({2, 6, 6}).to(tg::kFloat64)).sum();
      },
      {x, w, b});
  CHECK(tg::conv1d(x, w, b, {.padding = "same", .groups = 2}).shape() == tg::Shape{2, 6, 11});
  CHECK(tg::conv1d(x.narrow(0, 0, 1).reshape({4, 11}), w, b, {.groups = 2}).shape() ==
        tg::Shape{6, 9});
}

TEST_CASE("conv2d: errors name the op, the shapes and the option that does not fit") {
  const tg::Tensor x = tg::zeros({2, 3, 5, 5}), w = tg::zeros({4, 3, 3, 3});
  CHECK_THROWS_WITH_AS(tg::conv2d(x, tg::zeros({4, 2, 3, 3})),
                       "conv2d: weight [4, 2, 3, 3] expects 2 input channels (2 per group x 1 "
                       "groups), but the input [2, 3, 5, 5] has 3",
                       tg::ShapeError);
  CHECK_THROWS_WITH_AS(tg::conv2d(x, w, {}, {.groups = 2}),
                       "conv2d: 3 input and 4 output channels must both divide into groups=2",
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(tg::conv2d(x, w, tg::zeros({3})), "conv2d: bias must be (4): got [3]",
                       tg::ShapeError);
  CHECK_THROWS_WITH_AS(tg::conv2d(x, tg::zeros({4, 3, 7, 3})),
                       "conv2d: the input [2, 3, 5, 5] padded to (5, 5) is smaller than the "
                       "kernel (7, 3) spanning (7, 3) with its dilation",
                       tg::ShapeError);
  CHECK_THROWS_WITH_AS(tg::conv2d(x, w, {}, {.stride = 0}),
                       "conv2d: stride must be >= 1, got (0, 0)", tg::ValueError);
  CHECK_THROWS_WITH_AS(tg::conv2d(x, w, {}, {.padding = -1}),
                       "conv2d: padding must be >= 0, got (-1, -1)", tg::ValueError);
  CHECK_THROWS_WITH_AS(tg::conv2d(x, w, {}, {.dilation = {1, 0}}),
                       "conv2d: dilation must be >= 1, got (1, 0)", tg::ValueError);
  CHECK_THROWS_WITH_AS(tg::conv2d(x, w, {}, {.stride = 2, .padding = "same"}),
                       "conv2d: padding=\"same\" needs stride 1, got (2, 2)", tg::ValueError);
  CHECK_THROWS_WITH_AS(tg::conv2d(x, w, {}, {.padding = "full"}),
                       "padding must be numbers, \"same\" or \"valid\": got \"full\"",
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(tg::conv2d(tg::zeros({3, 5}), w),
                       "conv2d: the input must be (N, C, H, W) or (C, H, W): got [3, 5]",
                       tg::ShapeError);
  CHECK_THROWS_WITH_AS(tg::conv2d(x, w.to(tg::kFloat64)),
                       "conv2d: the input is float32 but the weight is float64; convert one with "
                       ".to()",
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(tg::conv2d(x, tg::zeros({4, 3, 3})), doctest::Contains("conv2d"),
                       tg::ShapeError);
  CHECK_THROWS_WITH_AS(tg::conv1d(x, w),
                       "conv1d: the input must be (N, C, L) or (C, L): got "
                       "[2, 3, 5, 5]",
                       tg::ShapeError);
  // conv1d's errors name its own 3-D shapes and one size per option, not the 4-D it runs as.
  const tg::Tensor x1 = tg::zeros({2, 3, 7}), w1 = tg::zeros({4, 3, 3});
  CHECK_THROWS_WITH_AS(tg::conv1d(x1, tg::zeros({4, 2, 3})),
                       "conv1d: weight [4, 2, 3] expects 2 input channels (2 per group x 1 "
                       "groups), but the input [2, 3, 7] has 3",
                       tg::ShapeError);
  CHECK_THROWS_WITH_AS(tg::conv1d(x1, tg::zeros({4, 3, 9})),
                       "conv1d: the input [2, 3, 7] padded to (7,) is smaller than the kernel (9,) "
                       "spanning (9,) with its dilation",
                       tg::ShapeError);
  CHECK_THROWS_WITH_AS(tg::conv1d(x1, w1, {}, {.stride = 0}),
                       "conv1d: stride must be >= 1, got (0,)", tg::ValueError);
  CHECK_THROWS_WITH_AS(tg::conv1d(x1, w1, {}, {.stride = 2, .padding = "same"}),
                       "conv1d: padding=\"same\" needs stride 1, got (2,)", tg::ValueError);
  CHECK_THROWS_WITH_AS(tg::conv2d(x, w, {}, {.stride = {1, 0}}),
                       "conv2d: stride must be >= 1, got (1, 0)", tg::ValueError);
  CHECK_THROWS_WITH_AS(tg::conv2d(x, w, {}, {.padding = std::int64_t{1} << 62}),
                       doctest::Contains("overflows int64"), tg::ValueError);
  // Each padded side fits, but the output plane (about 2^32 x 2^32 positions) does not.
  CHECK_THROWS_WITH_AS(tg::conv2d(x, w, {}, {.padding = std::int64_t{1} << 31}),
                       doctest::Contains("overflows int64"), tg::ValueError);
  CHECK_THROWS_WITH_AS(tg::conv2d(x, w, {}, {.dilation = std::int64_t{1} << 62}),
                       doctest::Contains("overflow"), tg::Error);
}

TEST_CASE("conv2d and conv1d: torch 1.13's outputs and gradients (tests/reference/conv.json)") {
  const auto cases = torch_data::cases("conv.json");
  CHECK(cases.size() == 13);
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const auto& c = cases[i];
    const auto& o = c.at("options");
    INFO("case " << i << ": " << o.dump());
    const std::vector<tg::Tensor> in = torch_data::leaves(c);
    const tg::Tensor &x = in[0], &w = in[1], &b = in[2];
    const auto stride = torch_data::pair(o.at("stride")),
               dilation = torch_data::pair(o.at("dilation"));
    const std::int64_t groups = o.at("groups");
    tg::Padding2 padding = 0;
    if (o.at("padding").is_string())
      padding = tg::Padding2(o.at("padding").get<std::string>().c_str());
    else
      padding = tg::Padding2(torch_data::pair(o.at("padding")).first,
                             torch_data::pair(o.at("padding")).second);
    tg::Tensor y;
    if (o.at("op") == "conv2d")
      y = tg::conv2d(x, w, b,
                     {.stride = {stride.first, stride.second},
                      .padding = padding,
                      .dilation = {dilation.first, dilation.second},
                      .groups = groups});
    else
      y = tg::conv1d(x, w, b,
                     {.stride = stride.first,
                      .padding = padding,
                      .dilation = dilation.first,
                      .groups = groups});
    torch_data::check_case(c, in, y, 1e-12);
  }
}
