// pad: PyTorch's own outputs and gradients for every mode (tests/reference/pad.json), a direct
// per-element implementation, finite-difference gradients, int64, empty results, and errors.
#include "../../torch_data.h"
#include "../helpers.h"

namespace {
tg::PadMode mode_of(const std::string& name) {
  for (tg::PadMode m :
       {tg::PadMode::Constant, tg::PadMode::Reflect, tg::PadMode::Replicate, tg::PadMode::Circular})
    if (name == tg::pad_mode_name(m)) return m;
  FAIL("unknown pad mode " << name);
  return tg::PadMode::Constant;
}

// The input coordinate read for output coordinate o along a dim of size n padded on the left
// by l, written from the definitions (mirror, clamp, wrap), one case at a time.
std::int64_t source_of(tg::PadMode m, std::int64_t o, std::int64_t l, std::int64_t n) {
  std::int64_t i = o - l;
  if (m == tg::PadMode::Constant) return i >= 0 && i < n ? i : -1;
  if (m == tg::PadMode::Replicate) return i < 0 ? 0 : i >= n ? n - 1 : i;
  if (m == tg::PadMode::Circular) {
    while (i < 0) i += n;
    return i % n;
  }
  while (i < 0 || i >= n) i = i < 0 ? -i : 2 * (n - 1) - i;  // reflect
  return i;
}
}  // namespace

TEST_CASE("pad: torch 1.13's outputs and gradients in every mode") {
  const auto cases = torch_data::cases("pad.json");
  CHECK(cases.size() == 11);
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const auto& c = cases[i];
    const auto& o = c.at("options");
    INFO("case " << i << ": " << o.dump());
    const std::vector<tg::Tensor> in = torch_data::leaves(c);
    const tg::Tensor y = tg::pad(in[0], o.at("pads").get<std::vector<std::int64_t>>(),
                                 mode_of(o.at("mode")), o.at("value"));
    torch_data::check_case(c, in, y, 1e-12);
  }
}

TEST_CASE("pad: 2-D padding equals a direct per-element implementation in every mode") {
  const tg::Tensor x = leaf({2, 3, 4, 5}, 21).detach();
  const std::vector<double> xv = x.to_vector<double>();
  const std::int64_t l = 2, r = 1, t = 3, b = 2;  // (left, right) of W, (top, bottom) of H
  for (tg::PadMode m : {tg::PadMode::Constant, tg::PadMode::Reflect, tg::PadMode::Replicate,
                        tg::PadMode::Circular}) {
    INFO(tg::pad_mode_name(m));
    const tg::Tensor y = tg::pad(x, {l, r, t, b}, m, m == tg::PadMode::Constant ? 7.5 : 0.0);
    const std::int64_t Ho = 4 + t + b, Wo = 5 + l + r;
    REQUIRE(y.shape() == tg::Shape{2, 3, Ho, Wo});
    std::vector<double> expected;
    for (std::int64_t nc = 0; nc < 6; ++nc)
      for (std::int64_t h = 0; h < Ho; ++h)
        for (std::int64_t w = 0; w < Wo; ++w) {
          const std::int64_t ih = source_of(m, h, t, 4), iw = source_of(m, w, l, 5);
          expected.push_back(
              ih < 0 || iw < 0 ? 7.5 : xv[static_cast<std::size_t>((nc * 4 + ih) * 5 + iw)]);
        }
    check_values(y, expected, 0);
  }
}

TEST_CASE("pad: finite-difference gradients, cropping, int64, empty outputs") {
  tg::Tensor x = leaf({2, 3, 4});
  const std::vector<std::pair<std::vector<std::int64_t>, tg::PadMode>> cases{
      {{1, 2, 0, 1}, tg::PadMode::Constant},  {{-1, 2, 1, -2}, tg::PadMode::Constant},
      {{3, 3}, tg::PadMode::Reflect},         {{2, 1, 2, 2}, tg::PadMode::Reflect},
      {{4, 1, 0, 3}, tg::PadMode::Replicate}, {{4, 2, 3, 1}, tg::PadMode::Circular}};
  for (const auto& c : cases) {
    const auto& pads = c.first;
    const tg::PadMode mode = c.second;
    INFO(tg::pad_mode_name(mode) << " with " << pads.size() << " values");
    const tg::Tensor y = tg::pad(x, pads, mode);
    const tg::Tensor mix = leaf(y.shape(), 3).detach();
    check_gradient([&] { return (tg::pad(x, pads, mode) * mix).sum(); }, {x});
  }
  // A padded dim of an int64 tensor, filled with an integral value.
  const tg::Tensor i = tg::from_vector(std::vector<double>{1, 2, 3}, {3}, {.dtype = tg::kInt64});
  CHECK(tg::pad(i, {1, 2}, tg::PadMode::Constant, -4).to_vector<double>() ==
        std::vector<double>{-4, 1, 2, 3, -4, -4});
  // A fractional fill truncates toward zero, as torch's; one past int64 is an error.
  CHECK(tg::pad(i, {0, 1}, tg::PadMode::Constant, -2.7).to_vector<double>() ==
        std::vector<double>{1, 2, 3, -2});
  CHECK_THROWS_AS(tg::pad(i, {1, 1}, tg::PadMode::Constant, 1e30), tg::ValueError);
  // Cropping everything away, and padding an empty dim.
  CHECK(tg::pad(x, {-2, -2}).shape() == tg::Shape{2, 3, 0});
  CHECK(tg::pad(tg::zeros({2, 0}), {1, 1}, tg::PadMode::Constant, 5).to_vector<double>() ==
        std::vector<double>{5, 5, 5, 5});
  CHECK(tg::pad(tg::zeros({0, 3}), {1 << 20, 1 << 20}).shape() == tg::Shape{0, 3 + (2 << 20)});
}

TEST_CASE("pad: errors name the mode, the dim and the sizes") {
  const tg::Tensor x = tg::zeros({2, 3, 4});
  CHECK_THROWS_WITH_AS(tg::pad(x, {1, 2, 3}),
                       "pad: pads must come in (left, right) pairs: got 3 values", tg::ValueError);
  CHECK_THROWS_WITH_AS(tg::pad(x, {1, 1, 1, 1, 1, 1, 1, 1}),
                       "pad: 8 values pad 4 dims, but the input [2, 3, 4] has 3", tg::ShapeError);
  CHECK_THROWS_WITH_AS(tg::pad(x, {-3, -2}),
                       "pad: dim 2 of size 4 padded by (-3, -2) would have a negative size -1",
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(tg::pad(x, {4, 0}, tg::PadMode::Reflect),
                       "pad: reflect padding (4, 0) does not fit dim 2 of size 4 of the input "
                       "[2, 3, 4] (each must be < the size)",
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(tg::pad(x, {0, 5}, tg::PadMode::Circular),
                       "pad: circular padding (0, 5) does not fit dim 2 of size 4 of the input "
                       "[2, 3, 4] (each must be <= the size)",
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(tg::pad(tg::zeros({2, 0}), {1, 1}, tg::PadMode::Replicate),
                       "pad: replicate padding (1, 1) does not fit dim 1 of size 0 of the input "
                       "[2, 0] (the dim must not be empty)",
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(tg::pad(x, {1, 1}, tg::PadMode::Reflect, 2.5),
                       "pad: reflect padding takes no fill value: got 2.5", tg::ValueError);
  CHECK_THROWS_WITH_AS(tg::pad(x, {-1, 0}, tg::PadMode::Replicate),
                       "pad: replicate padding must be non-negative: got (-1, 0) for dim 2",
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(tg::pad(tg::zeros({4}), {1, 1}, tg::PadMode::Reflect),
                       "pad: reflect padding of 1 dims needs a 2-D or 3-D input (unbatched or "
                       "batched): got [4]",
                       tg::ShapeError);
  CHECK_THROWS_WITH_AS(tg::pad(x, {1, 1, 1, 1, 1, 1}, tg::PadMode::Reflect),
                       "pad: reflect padding of 3 dims needs a 4-D or 5-D input (unbatched or "
                       "batched): got [2, 3, 4]",
                       tg::ShapeError);
  const std::int64_t big = std::numeric_limits<std::int64_t>::max();
  CHECK_THROWS_WITH_AS(tg::pad(x, {big, 1}),
                       "pad: dim 2 of size 4 padded by (9223372036854775807, 1) overflows int64",
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(tg::pad(x, {1 << 30, 1 << 30, 1 << 30, 1 << 30}),
                       "pad: the output size: 4294967302 x 2147483652 overflows int64",
                       tg::ValueError);
}
