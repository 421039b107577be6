// Padding layers: torch's outputs and input gradients (tests/reference/modules.json), their
// parameters (none), names, and the sizes and inputs they refuse.
#include "../core/helpers.h"
#include "../torch_data.h"

namespace nn = tg::nn;

namespace {
// The layer a modules.json padding case names, built from its options.
std::shared_ptr<nn::Module> padding_layer(const nlohmann::json& o) {
  const std::string name = o.at("module");
  const nlohmann::json& p = o.at("padding");
  nn::PadSizes s(0);
  s.sizes = p.is_array() ? p.get<std::vector<std::int64_t>>()
                         : std::vector<std::int64_t>{p.get<std::int64_t>()};
  const double value = o.value("value", 0.0);
  if (name == "ZeroPad2d") return std::make_shared<nn::ZeroPad2d>(s);
  if (name == "ConstantPad1d") return std::make_shared<nn::ConstantPad1d>(s, value);
  if (name == "ConstantPad2d") return std::make_shared<nn::ConstantPad2d>(s, value);
  if (name == "ReflectionPad1d") return std::make_shared<nn::ReflectionPad1d>(s);
  if (name == "ReflectionPad2d") return std::make_shared<nn::ReflectionPad2d>(s);
  if (name == "ReplicationPad1d") return std::make_shared<nn::ReplicationPad1d>(s);
  if (name == "ReplicationPad2d") return std::make_shared<nn::ReplicationPad2d>(s);
  return nullptr;
}
}  // namespace

TEST_CASE("padding layers: torch's outputs and input gradients") {
  std::size_t checked = 0;
  for (const nlohmann::json& c : torch_data::cases("modules.json")) {
    if (!c.contains("options")) continue;  // a normalisation layer's case
    INFO(c.at("options").dump());
    const auto layer = padding_layer(c.at("options"));
    REQUIRE(layer != nullptr);
    CHECK(layer->parameters().empty());
    CHECK(layer->name() == c.at("options").at("module").get<std::string>());
    const std::vector<tg::Tensor> in = torch_data::leaves(c);
    torch_data::check_parity(c, in, (*layer)(in[0]));
    ++checked;
  }
  CHECK(checked == 12);
}

TEST_CASE("padding layers: one size for every side, or one per side, as torch") {
  const tg::Tensor x = tg::arange(6.0, {.dtype = tg::kFloat64}).view({1, 2, 3});
  CHECK(nn::ZeroPad2d(1)(x).shape() == tg::Shape{1, 4, 5});
  CHECK(nn::ZeroPad2d({1, 0, 2, 3})(x).shape() == tg::Shape{1, 7, 4});
  CHECK(nn::ConstantPad1d({2, -1}, 9)(x).to_vector<double>() ==
        std::vector<double>{9, 9, 0, 1, 9, 9, 3, 4});
  CHECK(nn::ReplicationPad1d(2)(x).at({0, 1, 0}) == 3);
  CHECK(nn::ReflectionPad2d({1, 1, 0, 0})(x).at({0, 0, 0}) == 1);  // unbatched (C, H, W)
  CHECK(nn::ConstantPad2d(1, 0.5).extra_repr() == "(1, 1, 1, 1), value=0.5");
}

TEST_CASE("padding layers: bad sizes and inputs are named") {
  CHECK_THROWS_WITH_AS(nn::ZeroPad2d({1, 2}),
                       "ZeroPad2d: padding must be one size or 4 (left, right, top, bottom), got 2",
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(nn::ReflectionPad1d({1, -1}),
                       "ReflectionPad1d: padding must be >= 0, got -1", tg::ValueError);
  CHECK_THROWS_WITH_AS(nn::ReflectionPad2d(1)(tg::zeros({2, 3, 4, 5, 6})),
                       "ReflectionPad2d: expected 3D or 4D input, got [2, 3, 4, 5, 6]",
                       tg::ShapeError);
  CHECK_THROWS_WITH_AS(nn::ConstantPad2d(1, 0)(tg::zeros({4})),
                       "ConstantPad2d: expected 2D or more input, got [4]", tg::ShapeError);
  // Reflection needs sizes below the dim's, as torch: core's pad says so.
  CHECK_THROWS_AS(nn::ReflectionPad1d(3)(tg::zeros({1, 2, 3})), tg::Error);
}
