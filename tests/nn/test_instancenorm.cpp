// Instance normalisation layers and BatchNorm3d: torch's outputs, gradients, running statistics
// and evaluation (tests/reference/modules.json), their parameters and buffers, and errors.
#include "../core/helpers.h"
#include "../torch_data.h"

namespace nn = tg::nn;

namespace {
// A state dict's entry by name.
tg::Tensor entry(const nn::StateDict& state, const std::string& name) {
  for (const auto& [k, v] : state)
    if (k == name) return v;
  FAIL("no entry " << name);
  return {};
}

std::shared_ptr<nn::Module> norm_layer(const nlohmann::json& c) {
  const std::string name = c.at("module");
  const nlohmann::json& o = c.at("config");
  const std::int64_t channels = c.at("channels");
  if (name == "BatchNorm3d") {
    nn::BatchNormConfig config;
    if (o.contains("momentum"))
      config.momentum = o.at("momentum").is_string()
                            ? std::nullopt
                            : std::optional(o.at("momentum").get<double>());
    config.affine = o.value("affine", true);
    return std::make_shared<nn::BatchNorm3d>(channels, config);
  }
  const nn::InstanceNormConfig config{.eps = o.value("eps", 1e-5),
                                      .momentum = o.value("momentum", 0.1),
                                      .affine = o.value("affine", false),
                                      .track_running_stats = o.value("track_running_stats", false)};
  if (name == "InstanceNorm1d") return std::make_shared<nn::InstanceNorm1d>(channels, config);
  return std::make_shared<nn::InstanceNorm2d>(channels, config);
}
}  // namespace

TEST_CASE("InstanceNorm1d/2d and BatchNorm3d: torch's training steps, statistics and evaluation") {
  std::size_t checked = 0;
  for (const nlohmann::json& c : torch_data::cases("modules.json")) {
    if (!c.contains("config")) continue;  // a padding layer's case
    INFO(c.at("module").get<std::string>() << " " << c.at("config").dump());
    const auto m = norm_layer(c);
    m->to(tg::kFloat64);
    const auto named = m->named_parameters();
    if (c.contains("weight")) {
      REQUIRE(named.size() == 2);
      named[0].second.set_data(torch_data::tensor(c.at("weight")));
      named[1].second.set_data(torch_data::tensor(c.at("bias")));
    } else {
      CHECK(named.empty());
    }
    for (const nlohmann::json& s : c.at("steps")) {
      m->zero_grad();
      const tg::Tensor x = torch_data::tensor(s.at("x")).requires_grad_();
      const tg::Tensor y = (*m)(x);
      torch_data::check_parity_values(y, torch_data::tensor(s.at("y")));
      (y * torch_data::tensor(s.at("mix"))).sum().backward();
      torch_data::check_parity_values(x.grad(), torch_data::tensor(s.at("gx")));
      if (s.contains("gweight")) {
        torch_data::check_parity_values(named[0].second.grad(),
                                        torch_data::tensor(s.at("gweight")));
        torch_data::check_parity_values(named[1].second.grad(), torch_data::tensor(s.at("gbias")));
      }
    }
    const auto state = m->state_dict();
    if (c.contains("running_mean")) {
      torch_data::check_parity_values(entry(state, "running_mean"),
                                      torch_data::tensor(c.at("running_mean")));
      torch_data::check_parity_values(entry(state, "running_var"),
                                      torch_data::tensor(c.at("running_var")));
      CHECK(entry(state, "num_batches_tracked").item() ==
            c.at("num_batches_tracked").get<double>());
    } else {
      CHECK(state.empty() == !c.contains("weight"));
    }
    m->eval();
    torch_data::check_parity_values((*m)(torch_data::tensor(c.at("eval").at("x"))),
                                    torch_data::tensor(c.at("eval").at("y")));
    ++checked;
  }
  CHECK(checked == 7);
}

TEST_CASE("InstanceNorm: torch's names, and the inputs it refuses") {
  nn::InstanceNorm2d in(3, {.affine = true, .track_running_stats = true});
  std::vector<std::string> names;
  for (const auto& [k, v] : in.state_dict()) names.push_back(k);
  CHECK(names == std::vector<std::string>{"weight", "bias", "running_mean", "running_var",
                                          "num_batches_tracked"});
  CHECK(in.name() == "InstanceNorm2d");
  CHECK_THROWS_WITH_AS(in(tg::zeros({2, 4, 4})),
                       "InstanceNorm2d: expected 3 channels, got input [2, 4, 4]", tg::ShapeError);
  CHECK_THROWS_WITH_AS(nn::InstanceNorm1d(2)(tg::zeros({2, 3, 4, 5})),
                       "InstanceNorm1d: expected 2D (unbatched) or 3D input, got [2, 3, 4, 5]",
                       tg::ShapeError);
  CHECK_THROWS_WITH_AS(
      nn::InstanceNorm1d(2)(tg::zeros({3, 2, 1})),
      "InstanceNorm1d: expected more than 1 spatial element when training, got input [3, 2, 1]",
      tg::ValueError);
  CHECK_THROWS_WITH_AS(nn::InstanceNorm1d(0),
                       "InstanceNorm1d: num_features must be positive, got 0", tg::ValueError);
  // Without parameters or statistics any channel count normalises, as torch's.
  CHECK(nn::InstanceNorm1d(5)(tg::randn({2, 3, 4})).shape() == tg::Shape{2, 3, 4});
  CHECK_THROWS_WITH_AS(nn::BatchNorm3d(2)(tg::zeros({2, 2, 3, 3})),
                       "BatchNorm3d: expected 5D input, got [2, 2, 3, 3]", tg::ShapeError);
}
