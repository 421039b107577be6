// Pooling: PyTorch's own outputs, indices and gradients (tests/reference/pool.json) over strides,
// padding, dilation, ceil_mode, count_include_pad, divisor_override and adaptive sizes;
// finite-difference gradients; NaN and ties; errors.
#include "../../torch_data.h"
#include "../helpers.h"

namespace {
tg::Size2 size2(const nlohmann::json& j) {
  const auto [a, b] = torch_data::pair(j);
  return {a, b};
}

// Runs a stored case's op on x; indices, when the op has them, go to *indices.
tg::Tensor run_case(const nlohmann::json& o, const tg::Tensor& x, tg::Tensor* indices) {
  const std::string op = o.at("op");
  if (op == "max_pool2d") {
    auto [y, i] = tg::max_pool2d_with_indices(x, {.kernel_size = size2(o.at("kernel")),
                                                  .stride = size2(o.at("stride")),
                                                  .padding = size2(o.at("padding")),
                                                  .dilation = size2(o.at("dilation")),
                                                  .ceil_mode = o.at("ceil_mode")});
    *indices = i;
    return y;
  }
  if (op == "avg_pool2d")
    return tg::avg_pool2d(x, {.kernel_size = size2(o.at("kernel")),
                              .stride = size2(o.at("stride")),
                              .padding = size2(o.at("padding")),
                              .ceil_mode = o.at("ceil_mode"),
                              .count_include_pad = o.at("count_include_pad"),
                              .divisor_override = o.at("divisor_override")});
  if (op == "adaptive_avg_pool2d") return tg::adaptive_avg_pool2d(x, size2(o.at("output_size")));
  auto [y, i] = tg::adaptive_max_pool2d_with_indices(x, size2(o.at("output_size")));
  *indices = i;
  return y;
}
}  // namespace

TEST_CASE("pooling: torch 1.13's outputs, indices and gradients (tests/reference/pool.json)") {
  const auto cases = torch_data::cases("pool.json");
  CHECK(cases.size() == 20);
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const auto& c = cases[i];
    INFO("case " << i << ": " << c.at("options").dump());
    const std::vector<tg::Tensor> in = torch_data::leaves(c);
    tg::Tensor indices;
    const tg::Tensor y = run_case(c.at("options"), in[0], &indices);
    if (c.contains("indices")) {
      CHECK(indices.dtype() == tg::kInt64);
      CHECK(indices.to_vector<std::int64_t>() == c.at("indices").get<std::vector<std::int64_t>>());
    }
    torch_data::check_case(c, in, y, 1e-12);
  }
}

TEST_CASE("pooling: finite-difference gradients, float32, unbatched inputs") {
  tg::Tensor x = leaf({2, 3, 7, 6});
  const tg::Tensor mix = leaf({2, 3, 4, 3}, 9).detach();
  check_gradient(
      [&] {
        return (tg::max_pool2d(x, {.kernel_size = 3, .stride = 2, .padding = 1}) * mix).sum();
      },
      {x});
  const tg::Tensor mix_ceil = leaf({2, 3, 4, 4}, 10).detach();  // ceil_mode: one more column
  check_gradient(
      [&] {
        return (tg::avg_pool2d(x, {.kernel_size = 3,
                                   .stride = 2,
                                   .padding = 1,
                                   .ceil_mode = true,
                                   .count_include_pad = false}) *
                mix_ceil)
            .sum();
      },
      {x});
  check_gradient([&] { return (tg::adaptive_avg_pool2d(x, {4, 3}) * mix).sum(); }, {x});
  check_gradient([&] { return (tg::adaptive_max_pool2d(x, {4, 3}) * mix).sum(); }, {x});
  const tg::Tensor y32 = tg::max_pool2d(x.to(tg::kFloat32), {.kernel_size = 2});
  CHECK(y32.dtype() == tg::kFloat32);
  check_values(y32.to(tg::kFloat64), tg::max_pool2d(x, {.kernel_size = 2}).to_vector<double>(),
               1e-6);
  const tg::Tensor one = tg::avg_pool2d(x.narrow(0, 1, 1).reshape({3, 7, 6}), {.kernel_size = 2});
  CHECK(one.shape() == tg::Shape{3, 3, 3});
  check_values(one, tg::avg_pool2d(x, {.kernel_size = 2}).narrow(0, 1, 1).to_vector<double>());
}

TEST_CASE(
    "max_pool2d: NaN wins its window (the last of several), ties go to the first, the gradient to "
    "one place") {
  tg::Tensor x = leaf_of({1, 5, 5, 2, /**/ 3, NAN, 7, 7}, {1, 1, 2, 4});
  auto [y, i] = tg::max_pool2d_with_indices(x, {.kernel_size = 2});
  const auto v = y.to_vector<double>();
  CHECK(std::isnan(v[0]));
  CHECK(v[1] == 7);
  CHECK(i.to_vector<std::int64_t>() == std::vector<std::int64_t>{5, 6});
  y.sum().backward();
  check_values(x.grad(), {0, 0, 0, 0, 0, 1, 1, 0});
  // Of several NaNs the last wins, as torch 1.13's index says (max_pool2d_with_indices of
  // [[nan, 1], [nan, 2]] is 2), for the adaptive form too.
  const tg::Tensor two = leaf_of({NAN, 1, NAN, 2}, {1, 1, 2, 2});
  CHECK(tg::max_pool2d_with_indices(two, {.kernel_size = 2}).second.to_vector<std::int64_t>() ==
        std::vector<std::int64_t>{2});
  CHECK(tg::adaptive_max_pool2d_with_indices(two, {1, 1}).second.to_vector<std::int64_t>() ==
        std::vector<std::int64_t>{2});
}

TEST_CASE("pooling: errors name the op and what does not fit") {
  const tg::Tensor x = tg::zeros({1, 2, 5, 5});
  CHECK_THROWS_WITH_AS(tg::max_pool2d(x, {.kernel_size = 3, .padding = 2}),
                       "max_pool2d: padding must be between 0 and half the kernel size (1, 1), "
                       "got (2, 2)",
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(tg::max_pool2d(x, {.kernel_size = 0}),
                       "max_pool2d: kernel_size must be >= 1, got (0, 0)", tg::ValueError);
  CHECK_THROWS_WITH_AS(tg::avg_pool2d(x, {.kernel_size = 2, .stride = -1}),
                       "avg_pool2d: stride must be >= 1 (or 0 for the kernel size), got (-1, -1)",
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(tg::max_pool2d(x, {.kernel_size = 3, .dilation = 3}),
                       "max_pool2d: the input [1, 2, 5, 5] gives an output of (0, 0): too small "
                       "for the kernel (3, 3) with its dilation and padding",
                       tg::ShapeError);
  CHECK_THROWS_WITH_AS(tg::avg_pool2d(tg::zeros({5, 5}), {.kernel_size = 2}),
                       "avg_pool2d: the input must be (N, C, H, W) or (C, H, W): got [5, 5]",
                       tg::ShapeError);
  CHECK_THROWS_WITH_AS(tg::adaptive_avg_pool2d(x, {0, 2}),
                       "adaptive_avg_pool2d: output_size must be >= 1, got (0, 2)", tg::ValueError);
  CHECK_THROWS_WITH_AS(tg::avg_pool2d(x, {.kernel_size = 2, .divisor_override = -2}),
                       "avg_pool2d: divisor_override must be > 0 (or 0 for none), got -2",
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(tg::max_pool2d(x.to(tg::kInt64), {.kernel_size = 2}),
                       doctest::Contains("max_pool2d"), tg::ValueError);
  // Sizes near int64's end: the padded span and the ceil_mode round-up are checked, not wrapped.
  const std::int64_t big = std::numeric_limits<std::int64_t>::max();
  CHECK_THROWS_WITH_AS(tg::avg_pool2d(x, {.kernel_size = big, .padding = big / 2}),
                       "avg_pool2d: 5 + 9223372036854775806 overflows int64", tg::ValueError);
  CHECK_THROWS_WITH_AS(tg::max_pool2d(x, {.kernel_size = 2, .stride = big, .ceil_mode = true}),
                       "max_pool2d: 3 + 9223372036854775806 overflows int64", tg::ValueError);
}

TEST_CASE("max_pool2d: the 2x2 stride-2 kernel gives the general loop's values and indices") {
  // Two forms with the same windows that run the general loop: adaptive_max_pool2d to half the
  // size (even sizes), and ceil_mode, whose extra partial windows are cut off (odd sizes, where
  // a last row and column no window reads). The input holds ties, NaNs and -infinity (a window
  // of only -infinity keeps its first place).
  // Rows of 19, 16, 13, 7 and 4 windows take the float32 kernels' eight- and four-wide blocks
  // and the scalar tail.
  for (const tg::Dtype dtype : {tg::kFloat64, tg::kFloat32})
    for (const tg::Shape& shape :
         {tg::Shape{2, 3, 8, 6}, tg::Shape{1, 2, 7, 5}, tg::Shape{3, 4, 4}, tg::Shape{2, 3, 6, 38},
          tg::Shape{1, 1, 5, 33}, tg::Shape{2, 3, 4, 8}, tg::Shape{1, 2, 6, 26},
          tg::Shape{1, 1, 4, 15}}) {
      tg::Generator gen(7);
      std::vector<double> v =
          tg::randint(0, 4, shape, {.dtype = tg::kFloat64}, &gen).to_vector<double>();
      for (std::size_t k = 0; k < v.size(); k += 5) v[k] = NAN;
      for (std::size_t k = 3; k < v.size(); k += 7) v[k] = -INFINITY;
      const auto W = static_cast<std::size_t>(shape.back());
      v[0] = v[1] = v[W] = v[W + 1] = -INFINITY;  // the first window: all -infinity
      const tg::Tensor x = tg::from_vector(v, shape).to(dtype);
      const std::int64_t h = shape[shape.size() - 2] / 2, w = shape.back() / 2;
      const bool odd = shape.back() % 2 != 0;
      const auto [y, i] = tg::max_pool2d_with_indices(x, {.kernel_size = 2});
      auto [yr, ir] = odd ? tg::max_pool2d_with_indices(x, {.kernel_size = 2, .ceil_mode = true})
                          : tg::adaptive_max_pool2d_with_indices(x, {h, w});
      if (odd) {
        const auto r = static_cast<std::int64_t>(shape.size());
        yr = yr.narrow(r - 2, 0, h).narrow(r - 1, 0, w);
        ir = ir.narrow(r - 2, 0, h).narrow(r - 1, 0, w);
      }
      INFO("shape ", tg::shape_str(shape), " ", tg::dtype_name(dtype));
      REQUIRE(y.shape() == yr.shape());
      CHECK(i.to_vector<std::int64_t>() == ir.to_vector<std::int64_t>());
      const auto a = y.to(tg::kFloat64).to_vector<double>(),
                 b = yr.to(tg::kFloat64).to_vector<double>();
      for (std::size_t k = 0; k < a.size(); ++k)
        CHECK(((a[k] == b[k]) || (std::isnan(a[k]) && std::isnan(b[k]))));
      CHECK(a[0] == -INFINITY);
      CHECK(i.to_vector<std::int64_t>()[0] == 0);
    }
}
