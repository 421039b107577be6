// Buffers and state dicts: registration, names and order as torch's, to(dtype), strict and
// non-strict loads that check everything before changing anything, and checkpoints.
#include <filesystem>

#include "../core/helpers.h"

namespace nn = tg::nn;

namespace {
// Running statistics the way BatchNorm keeps them: float buffers, an int64 counter, and a
// scratch buffer that is not part of the state.
struct Stats : nn::Module {
  tg::Tensor weight = register_parameter("weight", tg::ones({3}));
  tg::Tensor running_mean = register_buffer("running_mean", tg::zeros({3}));
  tg::Tensor count = register_buffer("count", tg::zeros({}, {.dtype = tg::kInt64}));
  tg::Tensor scratch = register_buffer("scratch", tg::zeros({2}), /*persistent=*/false);
  tg::Tensor forward(const tg::Tensor& x) override { return x * weight + running_mean; }
};

struct Net : nn::Module {
  std::shared_ptr<nn::Linear> fc = register_module("fc", nn::Linear(2, 3));
  std::shared_ptr<Stats> bn = register_module("bn", Stats());
  tg::Tensor forward(const tg::Tensor& x) override { return (*bn)((*fc)(x)); }
};

std::vector<std::string> names(const nn::StateDict& sd) {
  std::vector<std::string> r;
  for (const auto& [n, t] : sd) r.push_back(n);
  return r;
}

// A state dict with other values everywhere, built from another module's.
nn::StateDict shifted(const nn::Module& m) {
  nn::StateDict sd;
  for (const auto& [n, t] : m.state_dict())
    sd.emplace_back(n, t.dtype() == tg::kInt64 ? t + 7 : t + 0.5);
  return sd;
}
}  // namespace

TEST_CASE("buffers: names, order and the state dict read as torch's") {
  Net net;
  const auto bufs = net.named_buffers();
  REQUIRE(bufs.size() == 3);
  CHECK(bufs[0].first == "bn.running_mean");
  CHECK(bufs[1].first == "bn.count");
  CHECK(bufs[2].first == "bn.scratch");
  CHECK(net.buffers().size() == 3);
  // Buffers are never trained.
  CHECK(net.parameters().size() == 3);
  CHECK_FALSE(net.bn->running_mean.requires_grad());
  // Module by module: own parameters, own persistent buffers, then children.
  CHECK(names(net.state_dict()) == std::vector<std::string>{"fc.weight", "fc.bias", "bn.weight",
                                                            "bn.running_mean", "bn.count"});
  // The values share storage with the module (detached).
  const nn::StateDict sd = net.state_dict();
  net.bn->running_mean.fill_(2.0);
  CHECK(sd[3].second.to_vector<float>() == std::vector<float>{2, 2, 2});
  CHECK_FALSE(sd[0].second.requires_grad());
}

TEST_CASE("buffers: to(kFloat64) converts floating buffers, keeps int64 counters") {
  Net net;
  const tg::Tensor handle = net.bn->running_mean;
  net.to(tg::kFloat64);
  CHECK(handle.dtype() == tg::kFloat64);  // in place: every handle sees it
  CHECK(net.bn->scratch.dtype() == tg::kFloat64);
  CHECK(net.bn->count.dtype() == tg::kInt64);
  CHECK(net(tg::ones({4, 2}, {.dtype = tg::kFloat64})).dtype() == tg::kFloat64);
}

TEST_CASE("buffers: names clash with parameters and submodules, and are checked") {
  struct Clash : nn::Module {
    tg::Tensor forward(const tg::Tensor& x) override { return x; }
    void add() {
      register_parameter("w", tg::ones({1}));
      register_buffer("b", tg::ones({1}));
      register_module("m", nn::Linear(1, 1));
    }
    void buffer(const std::string& n, tg::Tensor t = tg::ones({1})) { register_buffer(n, t); }
    void param(const std::string& n) { register_parameter(n, tg::ones({1})); }
  } c;
  c.add();
  CHECK_THROWS_WITH_AS(c.buffer("w"), "register_buffer: 'w' is already registered (as a parameter)",
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(c.param("b"), "register_parameter: 'b' is already registered (as a buffer)",
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(c.buffer("m"), "register_buffer: 'm' is already registered (as a submodule)",
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(c.buffer("a.b"), "register_buffer: bad name 'a.b' (non-empty, no dots)",
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(c.buffer("u", tg::Tensor()), "register_buffer: 'u' is undefined",
                       tg::ValueError);
}

TEST_CASE("load_state_dict: a round trip copies every value") {
  Net a, b;
  const auto r = b.load_state_dict(shifted(a));
  CHECK(r.missing_keys.empty());
  CHECK(r.unexpected_keys.empty());
  const std::vector<double> va = state_values(a), vb = state_values(b);
  REQUIRE(va.size() == vb.size());
  for (std::size_t i = 0; i < va.size(); ++i)
    CHECK(vb[i] == doctest::Approx(va[i] + (i + 1 == va.size() ? 7 : 0.5)));
  CHECK(b.bn->count.item() == 7);
}

TEST_CASE("load_state_dict: missing, unexpected, wrong shapes and dtypes change nothing") {
  Net a, b;
  const std::vector<double> before = state_values(b);
  nn::StateDict sd = shifted(a);
  sd.erase(sd.begin() + 3);  // bn.running_mean
  sd.emplace_back("bn.extra", tg::zeros({1}));
  CHECK_THROWS_WITH_AS(b.load_state_dict(sd),
                       "load_state_dict: error(s) loading the state dict for Net: missing "
                       "key(s): 'bn.running_mean'. unexpected key(s): 'bn.extra'.",
                       tg::ValueError);
  CHECK(state_values(b) == before);
  // Non-strict: the rest is loaded, and what was left out is returned.
  const auto r = b.load_state_dict(sd, /*strict=*/false);
  CHECK(r.missing_keys == std::vector<std::string>{"bn.running_mean"});
  CHECK(r.unexpected_keys == std::vector<std::string>{"bn.extra"});
  CHECK(b.bn->count.item() == 7);
  CHECK(b.bn->running_mean.to_vector<float>() == std::vector<float>{0, 0, 0});

  Net c;
  const std::vector<double> c_before = state_values(c);
  nn::StateDict bad = shifted(a);
  bad[4].second = tg::zeros({2}, {.dtype = tg::kInt64});
  CHECK_THROWS_WITH_AS(c.load_state_dict(bad, false),
                       "load_state_dict: 'bn.count' is [2] int64 in the state dict but [] int64 "
                       "in the model",
                       tg::ValueError);
  bad = shifted(a);
  bad[0].second = bad[0].second.to(tg::kFloat64);
  CHECK_THROWS_WITH_AS(c.load_state_dict(bad),
                       "load_state_dict: 'fc.weight' is [3, 2] float64 in the state dict but "
                       "[3, 2] float32 in the model",
                       tg::ValueError);
  bad = shifted(a);
  bad.push_back(bad[1]);
  CHECK_THROWS_WITH_AS(c.load_state_dict(bad), "load_state_dict: entry 'fc.bias' appears twice",
                       tg::ValueError);
  CHECK(state_values(c) == c_before);
}

TEST_CASE("buffers travel in checkpoints, and a checkpoint without them is refused") {
  const std::string path = (std::filesystem::temp_directory_path() / "tg_buffers.tg").string();
  Net a, b;
  a.load_state_dict(shifted(a));
  a.save(path);
  b.load(path);
  CHECK(state_values(b) == state_values(a));
  // A model that gained a buffer cannot read a file written before it had one.
  struct Plain : nn::Module {
    std::shared_ptr<nn::Linear> fc = register_module("fc", nn::Linear(2, 3));
    tg::Tensor forward(const tg::Tensor& x) override { return (*fc)(x); }
  } plain;
  plain.save(path);
  struct Grown : nn::Module {
    std::shared_ptr<nn::Linear> fc = register_module("fc", nn::Linear(2, 3));
    tg::Tensor seen = register_buffer("seen", tg::zeros({1}));
    tg::Tensor forward(const tg::Tensor& x) override { return (*fc)(x); }
  } grown;
  CHECK_THROWS_WITH_AS(grown.load(path), doctest::Contains("load: missing buffer 'seen'"),
                       tg::ValueError);
  std::filesystem::remove(path);
}
