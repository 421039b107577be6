// Conv1d, Conv2d, the pooling layers, BatchNorm1d/2d and Dropout2d: parameters and buffers as
// torch's (names, shapes, initial ranges), forwards equal to core's ops, BatchNorm2d's running
// statistics over three steps and its evaluation against PyTorch's own (momentum 0.1 and the
// cumulative None), what they print, and their errors.
#include <sstream>

#include "../core/helpers.h"
#include "../torch_data.h"

namespace nn = tg::nn;

TEST_CASE("Conv2d and Conv1d: torch's parameters and initial ranges, forward through conv") {
  tg::Generator gen(3);
  nn::Conv2d conv(4, 6, {3, 2}, {.padding = 1, .groups = 2}, true, &gen);
  const auto named = conv.named_parameters();
  REQUIRE(named.size() == 2);
  CHECK(named[0].first == "weight");
  CHECK(conv.weight().shape() == tg::Shape{6, 2, 3, 2});
  CHECK(conv.bias().shape() == tg::Shape{6});
  // kaiming_uniform_(a = sqrt(5)) and the bias both lie in +-1/sqrt(fan_in), fan_in = 2 * 3 * 2.
  const double bound = 1 / std::sqrt(12.0);
  CHECK(conv.weight().abs().max().item() <= bound);
  CHECK(conv.bias().abs().max().item() <= bound);
  CHECK(conv.weight().abs().max().item() > 0.8 * bound);
  const tg::Tensor x = tg::randn({2, 4, 5, 5}, {}, &gen);
  CHECK(conv(x).to_vector<float>() ==
        tg::conv2d(x, conv.weight(), conv.bias(), {.padding = 1, .groups = 2}).to_vector<float>());
  std::ostringstream os;
  os << conv;
  CHECK(os.str() == "Conv2d(4, 6, kernel_size=(3, 2), stride=(1, 1), padding=(1, 1), groups=2)");

  nn::Conv1d c1(3, 2, 4, {.stride = 2}, false, &gen);
  CHECK(c1.weight().shape() == tg::Shape{2, 3, 4});
  CHECK_FALSE(c1.bias().defined());
  CHECK(c1(tg::randn({2, 3, 9}, {}, &gen)).shape() == tg::Shape{2, 2, 3});
  os.str("");
  os << c1;
  CHECK(os.str() == "Conv1d(3, 2, kernel_size=(4,), stride=(2,), bias=false)");
  CHECK_THROWS_WITH_AS(nn::Conv2d(3, 4, 3, {.groups = 2}),
                       "Conv2d: 3 input and 4 output channels must both divide into groups=2",
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(nn::Conv2d(3, 4, {3, 0}), "Conv2d: kernel_size must be >= 1, got [3, 0]",
                       tg::ValueError);
}

TEST_CASE("pooling layers forward through core's functions and print as torch's") {
  const tg::Tensor x = leaf({2, 3, 7, 6});
  nn::MaxPool2d mp({.kernel_size = 3, .stride = 2, .padding = 1});
  nn::AvgPool2d ap({.kernel_size = 2});
  nn::AdaptiveAvgPool2d aap({2, 3});
  nn::AdaptiveMaxPool2d amp(1);
  CHECK(mp(x).to_vector<double>() ==
        tg::max_pool2d(x, {.kernel_size = 3, .stride = 2, .padding = 1}).to_vector<double>());
  CHECK(ap(x).shape() == tg::Shape{2, 3, 3, 3});
  CHECK(aap(x).shape() == tg::Shape{2, 3, 2, 3});
  CHECK(amp(x).shape() == tg::Shape{2, 3, 1, 1});
  std::ostringstream os;
  os << mp << ' ' << ap << ' ' << aap;
  CHECK(os.str() ==
        "MaxPool2d(kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=false) "
        "AvgPool2d(kernel_size=2, stride=2, padding=0) AdaptiveAvgPool2d(output_size=(2, 3))");
}

TEST_CASE("BatchNorm2d: running statistics after three steps and evaluation match torch's") {
  const auto cases = torch_data::cases("batchnorm_module.json");
  REQUIRE(cases.size() == 2);
  for (const auto& c : cases) {
    const bool cumulative = c.at("momentum").is_string();
    INFO("momentum " << c.at("momentum").dump());
    nn::BatchNorm2d bn(3, {.momentum = cumulative ? std::nullopt : std::optional<double>(0.1)});
    bn.to(tg::kFloat64);
    {
      tg::NoGradGuard no_grad;
      bn.weight().copy_(torch_data::tensor(c.at("weight")));
      bn.bias().copy_(torch_data::tensor(c.at("bias")));
    }
    for (const auto& step : c.at("steps"))
      check_values(bn(torch_data::tensor(step.at("x"))),
                   torch_data::tensor(step.at("y")).to_vector<double>());
    check_values(bn.running_mean(), torch_data::tensor(c.at("running_mean")).to_vector<double>());
    check_values(bn.running_var(), torch_data::tensor(c.at("running_var")).to_vector<double>());
    CHECK(bn.num_batches_tracked().item() == c.at("num_batches_tracked").get<double>());
    CHECK(bn.num_batches_tracked().dtype() == tg::kInt64);
    bn.eval();
    check_values(bn(torch_data::tensor(c.at("eval").at("x"))),
                 torch_data::tensor(c.at("eval").at("y")).to_vector<double>());
  }
}

TEST_CASE("BatchNorm1d/2d: buffers named as torch's, options, the errors torch raises") {
  nn::Sequential net(nn::Linear(4, 3), nn::BatchNorm1d(3));
  std::vector<std::string> names;
  for (const auto& [n, t] : net.state_dict()) names.push_back(n);
  CHECK(names == std::vector<std::string>{"0.weight", "0.bias", "1.weight", "1.bias",
                                          "1.running_mean", "1.running_var",
                                          "1.num_batches_tracked"});
  CHECK_THROWS_WITH_AS(net(tg::zeros({1, 4})),
                       "batch_norm: expected more than 1 value per channel when training, got "
                       "input size [1, 3]",
                       tg::ValueError);
  net.eval();
  CHECK(net(tg::zeros({1, 4})).shape() == tg::Shape{1, 3});  // evaluation takes one sample

  nn::BatchNorm2d plain(2, {.affine = false, .track_running_stats = false});
  CHECK(plain.parameters().empty());
  CHECK(plain.buffers().empty());
  plain.eval();  // no running statistics: batch ones, in evaluation too
  const tg::Tensor x = leaf({3, 2, 2, 2});
  check_values(plain(x), tg::batch_norm(x, {}, {}, {}, {}).to_vector<double>());
  CHECK_THROWS_WITH_AS(plain(tg::zeros({3, 2, 2})), "BatchNorm2d: expected 4D input, got [3, 2, 2]",
                       tg::ShapeError);
  CHECK_THROWS_WITH_AS(nn::BatchNorm1d(3)(tg::zeros({2, 3, 4, 5})),
                       "BatchNorm1d: expected 2D or 3D input, got [2, 3, 4, 5]", tg::ShapeError);
  CHECK_THROWS_WITH_AS(nn::BatchNorm1d(3, {.momentum = 1.5}),
                       "BatchNorm1d: momentum must be in [0, 1], got 1.5", tg::ValueError);
  std::ostringstream os;
  os << nn::BatchNorm2d(4);
  CHECK(os.str() ==
        "BatchNorm2d(4, eps=1e-05, momentum=0.1, affine=true, "
        "track_running_stats=true)");
}

TEST_CASE("Dropout2d: whole channels, scaled, and the identity in evaluation") {
  tg::Generator gen(5);
  nn::Dropout2d drop(0.5, &gen);
  const tg::Tensor x = tg::ones({8, 16, 3, 3});
  const tg::Tensor y = drop(x);
  const auto v = y.to_vector<float>();
  std::int64_t dropped = 0;
  for (std::int64_t ch = 0; ch < 8 * 16; ++ch) {
    const float first = v[static_cast<std::size_t>(ch * 9)];
    CHECK((first == 0.0f || first == 2.0f));
    for (std::int64_t k = 1; k < 9; ++k) CHECK(v[static_cast<std::size_t>(ch * 9 + k)] == first);
    dropped += first == 0.0f;
  }
  CHECK(dropped > 30);
  CHECK(dropped < 98);
  drop.eval();
  CHECK(drop(x).to_vector<float>() == x.to_vector<float>());
  CHECK_THROWS_WITH_AS(nn::functional::dropout2d(tg::ones({4, 4})),
                       "dropout2d: the input must be (N, C, H, W) or (C, H, W): got [4, 4]",
                       tg::ShapeError);
}

TEST_CASE("dropout2d: the gradient is each channel's mask, scaled, as finite differences say") {
  tg::Tensor x = leaf({3, 4, 2, 3}, 2);
  const tg::Tensor mix = leaf({3, 4, 2, 3}, 3).detach();
  const auto f = [&] {  // the same mask on every call: a fresh generator, same seed
    tg::Generator gen(9);
    return (nn::functional::dropout2d(x, 0.25, true, &gen) * mix).sum();
  };
  check_gradient(f, {x});
  f().backward();
  tg::Generator gen(9);
  const tg::Tensor y = nn::functional::dropout2d(x.detach(), 0.25, true, &gen);
  const std::vector<double> g = x.grad().to_vector<double>(), yv = y.to_vector<double>(),
                            xv = x.to_vector<double>(), m = mix.to_vector<double>();
  int kept = 0;
  for (std::size_t i = 0; i < g.size(); ++i) {
    const double scale = yv[i] / xv[i];  // 0 or 1 / 0.75 for the whole channel
    CHECK((std::abs(scale) < 1e-15 || std::abs(scale - 1 / 0.75) < 1e-12));
    CHECK(g[i] == doctest::Approx(scale * m[i]).epsilon(1e-12));
    kept += scale > 0;
  }
  CHECK(kept % 6 == 0);  // whole (2, 3) planes
  CHECK(kept > 0);
  CHECK(kept < 72);
}

TEST_CASE("a small CNN with BatchNorm learns to tell vertical bars from horizontal ones") {
  // 8x8 images, flat as a loader hands them out: a bright bar at a random place, plus noise.
  tg::Generator gen(17);
  const std::int64_t n = 256;
  std::vector<float> pixels(static_cast<std::size_t>(n * 64));
  std::vector<std::int64_t> labels(static_cast<std::size_t>(n));
  const std::vector<float> noise = (tg::rand({n * 64}, {}, &gen) * 0.3).to_vector<float>();
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int64_t vertical = i % 2, at = (i / 2) % 8;
    labels[static_cast<std::size_t>(i)] = vertical;
    for (std::int64_t r = 0; r < 8; ++r)
      for (std::int64_t c = 0; c < 8; ++c) {
        const auto k = static_cast<std::size_t>(i * 64 + r * 8 + c);
        pixels[k] = noise[k] + ((vertical ? c : r) == at ? 1.0f : 0.0f);
      }
  }
  const tg::Tensor x = tg::from_vector(pixels, {n, 64}), y = tg::from_vector(labels, {n});
  nn::Sequential net(nn::Unflatten(1, {1, 8, 8}), nn::Conv2d(1, 4, 3, {.padding = 1}, true, &gen),
                     nn::BatchNorm2d(4), nn::ReLU(), nn::MaxPool2d({.kernel_size = 2}),
                     nn::Flatten(), nn::Linear(64, 2, true, &gen));
  tg::optim::Adam opt(net.parameters(), {.lr = 0.02});
  for (int step = 0; step < 60; ++step) {
    const tg::Tensor loss = nn::functional::cross_entropy(net(x), y);
    opt.zero_grad();
    loss.backward();
    opt.step();
  }
  net.eval();
  const double acc = tg::eq(tg::argmax(net(x), 1), y).to(tg::kFloat32).mean().item();
  CHECK(acc >= 0.97);
}
