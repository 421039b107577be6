// Module, Sequential and ModuleList: registration, names, order, modes, printing.
#include <sstream>

#include "../core/helpers.h"

namespace nn = tg::nn;

namespace {
// The custom module a user writes: two layers and a forward.
struct Net : nn::Module {
  std::shared_ptr<nn::Linear> fc1 = register_module("fc1", nn::Linear(4, 3));
  std::shared_ptr<nn::Linear> fc2 = register_module("fc2", nn::Linear(3, 2));
  tg::Tensor forward(const tg::Tensor& x) override { return (*fc2)(tg::relu((*fc1)(x))); }
};

struct Encoder : nn::Module {
  std::shared_ptr<Net> net = register_module("net", Net());
  tg::Tensor scale = register_parameter("scale", tg::ones({2}));
  tg::Tensor forward(const tg::Tensor& x) override { return (*net)(x)*scale; }
};
}  // namespace

TEST_CASE("module: a custom module runs and lists its parameters in order") {
  Net net;
  CHECK(net(tg::zeros({5, 4})).shape() == tg::Shape{5, 2});
  const auto named = net.named_parameters();
  REQUIRE(named.size() == 4);
  CHECK(named[0].first == "fc1.weight");
  CHECK(named[1].first == "fc1.bias");
  CHECK(named[2].first == "fc2.weight");
  CHECK(named[3].first == "fc2.bias");
  CHECK(named[0].second.shape() == tg::Shape{3, 4});
  CHECK(net.num_parameters() == 3 * 4 + 3 + 2 * 3 + 2);
  CHECK(net.parameters().size() == 4);
  CHECK(net.children().size() == 2);
  CHECK(net.parameters()[0].is_same(net.fc1->weight()));  // the same tensor, not a copy
}

TEST_CASE("module: nested names put own parameters first") {
  Encoder enc;
  std::vector<std::string> names;
  for (auto& [n, p] : enc.named_parameters()) names.push_back(n);
  CHECK(names == std::vector<std::string>{"scale", "net.fc1.weight", "net.fc1.bias",
                                          "net.fc2.weight", "net.fc2.bias"});
  CHECK(enc.named_children()[0].first == "net");
}

TEST_CASE("module: train and eval reach every submodule") {
  Encoder enc;
  CHECK(enc.is_training());
  enc.eval();
  CHECK_FALSE(enc.is_training());
  CHECK_FALSE(enc.net->is_training());
  CHECK_FALSE(enc.net->fc1->is_training());
  enc.train();
  CHECK(enc.net->fc2->is_training());
}

TEST_CASE("module: zero_grad zeroes every parameter's gradient") {
  Net net;
  net(tg::ones({2, 4})).sum().backward();
  CHECK(net.fc1->weight().grad().abs().sum().item() > 0);
  net.zero_grad();
  for (const tg::Tensor& p : net.parameters()) CHECK(p.grad().abs().sum().item() == 0);
}

TEST_CASE("module: to(kFloat64) converts parameters in place for gradient checks") {
  Net net;
  const double w00 = net.fc1->weight().at({0, 0});
  net.to(tg::kFloat64);
  for (const tg::Tensor& p : net.parameters()) CHECK(p.dtype() == tg::kFloat64);
  CHECK(net.fc1->weight().dtype() == tg::kFloat64);
  CHECK(net.fc1->weight().at({0, 0}) == w00);
  tg::Tensor x = leaf({5, 4});
  std::vector<tg::Tensor> inputs = net.parameters();
  inputs.push_back(x);
  check_gradient([&] { return net(x); }, inputs);
}

TEST_CASE("module: registration rejects bad and repeated names") {
  struct Bad : nn::Module {
    tg::Tensor forward(const tg::Tensor& x) override { return x; }
    void add(const std::string& n) { register_parameter(n, tg::zeros({1})); }
  } bad;
  bad.add("w");
  CHECK_THROWS_WITH_AS(bad.add("w"), doctest::Contains("'w' is already registered"),
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(bad.add("a.b"), doctest::Contains("bad name 'a.b'"), tg::ValueError);
}

TEST_CASE("module: prints like PyTorch") {
  nn::Sequential seq(nn::Linear(784, 128), nn::Sigmoid(), nn::Linear(128, 10, false));
  std::ostringstream os;
  os << seq;
  CHECK(os.str() ==
        "Sequential(\n"
        "  (0): Linear(in_features=784, out_features=128, bias=true)\n"
        "  (1): Sigmoid()\n"
        "  (2): Linear(in_features=128, out_features=10, bias=false)\n"
        ")");
  std::ostringstream net;
  net << Net();
  CHECK(net.str().rfind("Net(\n  (fc1): Linear(in_features=4", 0) == 0);
}

TEST_CASE("sequential: chains, appends, indexes and names children by position") {
  nn::Sequential seq(nn::Linear(4, 8), nn::Tanh());
  seq.push_back(nn::Linear(8, 2));
  auto shared = std::make_shared<nn::ReLU>();
  seq.push_back(shared);
  CHECK(seq.size() == 4);
  CHECK(seq[1].name() == "Tanh");
  CHECK(seq.ptr(3) == shared);
  CHECK(seq(tg::zeros({3, 4})).shape() == tg::Shape{3, 2});
  CHECK(seq.named_parameters()[2].first == "2.weight");
  CHECK_THROWS_WITH_AS(seq[4],
                       doctest::Contains("Sequential: index 4 is out of range for 4 modules"),
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(seq(tg::zeros({3, 5})), doctest::Contains("linear: feature sizes differ"),
                       tg::ShapeError);
}

TEST_CASE("module_list: holds modules for a custom forward") {
  struct Stack : nn::Module {
    std::shared_ptr<nn::ModuleList> layers = register_module("layers", nn::ModuleList());
    Stack() {
      for (int i = 0; i < 3; ++i) layers->push_back(nn::Linear(2, 2));
    }
    tg::Tensor forward(const tg::Tensor& x) override {
      tg::Tensor h = x;
      for (std::size_t i = 0; i < layers->size(); ++i) h = (*layers)[i](h);
      return h;
    }
  } s;
  CHECK(s.named_parameters().size() == 6);
  CHECK(s.named_parameters()[4].first == "layers.2.weight");
  CHECK(s(tg::zeros({1, 2})).shape() == tg::Shape{1, 2});
  CHECK_THROWS_AS((*s.layers)(tg::zeros({1, 2})), tg::StateError);
}
