// Linear, activations, Dropout, Flatten, Unflatten, Identity.
#include <sstream>

#include "../core/helpers.h"

namespace nn = tg::nn;

TEST_CASE("linear: PyTorch's layout and initialisation bounds") {
  tg::Generator gen(3);
  nn::Linear lin(100, 30, true, &gen);
  CHECK(lin.weight().shape() == tg::Shape{30, 100});
  CHECK(lin.bias().shape() == tg::Shape{30});
  CHECK(lin.weight().requires_grad());
  const double bound = 1 / std::sqrt(100.0);
  for (float v : lin.weight().to_vector<float>()) CHECK(std::abs(v) <= bound);
  for (float v : lin.bias().to_vector<float>()) CHECK(std::abs(v) <= bound);
  // U(-b, b) has standard deviation b / sqrt(3).
  const tg::Tensor w = lin.weight().detach();
  CHECK(std::sqrt((w * w).mean().item()) == doctest::Approx(bound / std::sqrt(3.0)).epsilon(0.05));
  nn::Linear nob(3, 2, false);
  CHECK_FALSE(nob.bias().defined());
  CHECK(nob.parameters().size() == 1);
  CHECK_THROWS_AS(nn::Linear(0, 3), tg::ValueError);
}

TEST_CASE("linear: output values, shape and gradient") {
  nn::Linear lin(3, 2);
  lin.to(tg::kFloat64);
  {
    tg::NoGradGuard no_grad;
    lin.weight().copy_(tg::tensor({1, 0, 1, 0, 1, 0}, {2, 3}));
    lin.bias().copy_(tg::tensor({10, 20}));
  }
  tg::Tensor x = tg::tensor({1, 2, 3, 4, 5, 6}, {2, 3}, {.dtype = tg::kFloat64});
  check_values(lin(x), {14, 22, 20, 25});
  tg::Tensor xl = leaf({4, 3});
  check_gradient([&] { return lin(xl); }, {xl, lin.weight(), lin.bias()});
}

TEST_CASE("activations: modules match the core ops and gradcheck") {
  tg::Tensor x = leaf({3, 4});
  nn::Sigmoid sg;
  nn::Tanh th;
  nn::ReLU re;
  nn::LeakyReLU lr(0.2);
  nn::Softmax sm(1);
  nn::LogSoftmax lsm(1);
  check_values(sg(x), tg::sigmoid(x).to_vector<double>());
  check_values(th(x), tg::tanh(x).to_vector<double>());
  check_values(re(x), tg::relu(x).to_vector<double>());
  check_values(lr(x), tg::leaky_relu(x, 0.2).to_vector<double>());
  check_values(sm(x), tg::softmax(x, 1).to_vector<double>());
  check_values(lsm(x), tg::log_softmax(x, 1).to_vector<double>());
  for (nn::Module* m : std::vector<nn::Module*>{&sg, &th, &re, &lr, &sm, &lsm}) {
    INFO(m->name());
    check_gradient([&] { return (*m)(x); }, {x});
  }
  CHECK(lr.extra_repr() == "negative_slope=0.2");
}

TEST_CASE("activations: Softplus ELU GELU SiLU Hardtanh ReLU6 match the core ops") {
  tg::Tensor x = leaf({3, 5});
  nn::Softplus sp(2, 1.5);
  nn::ELU elu(0.4);
  nn::GELU gelu;
  nn::GELU gelu_tanh(tg::GeluApproximate::Tanh);
  nn::SiLU silu;
  nn::Hardtanh ht(-0.5, 0.8);
  nn::ReLU6 r6;
  check_values(sp(x), tg::softplus(x, 2, 1.5).to_vector<double>());
  check_values(elu(x), tg::elu(x, 0.4).to_vector<double>());
  check_values(gelu(x), tg::gelu(x).to_vector<double>());
  check_values(gelu_tanh(x), tg::gelu(x, tg::GeluApproximate::Tanh).to_vector<double>());
  check_values(silu(x), tg::silu(x).to_vector<double>());
  check_values(ht(x), tg::hardtanh(x, -0.5, 0.8).to_vector<double>());
  check_values(r6(x * 5), tg::relu6(x * 5).to_vector<double>());
  for (nn::Module* m : std::vector<nn::Module*>{&sp, &elu, &gelu, &gelu_tanh, &silu, &ht}) {
    INFO(m->name());
    check_gradient([&] { return (*m)(x); }, {x});
  }
  CHECK(sp.extra_repr() == "beta=2, threshold=1.5");
  CHECK(elu.extra_repr() == "alpha=0.4");
  CHECK(gelu.extra_repr() == "approximate='none'");
  CHECK(gelu_tanh.extra_repr() == "approximate='tanh'");
  CHECK(ht.extra_repr() == "min_val=-0.5, max_val=0.8");
  CHECK(r6.name() == "ReLU6");
  CHECK(silu.name() == "SiLU");
  // Options are checked when the module is built, with the op's own message.
  CHECK_THROWS_WITH_AS(nn::Softplus(0), doctest::Contains("softplus: beta must be"),
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(nn::ELU(NAN), doctest::Contains("elu: alpha must be finite"),
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(nn::Hardtanh(1, 0),
                       doctest::Contains("hardtanh: min_val must be <= max_val"), tg::ValueError);
}

TEST_CASE("dropout: zeroes about p of the elements, scales the rest, identity in eval") {
  tg::Generator gen(11);
  nn::Dropout drop(0.25, &gen);
  tg::Tensor x = tg::ones({200, 100});
  const auto y = drop(x).to_vector<float>();
  int zeros = 0;
  for (float v : y) {
    CHECK((v == 0 || v == doctest::Approx(1 / 0.75)));
    zeros += v == 0;
  }
  CHECK(zeros / 20000.0 == doctest::Approx(0.25).epsilon(0.05));
  drop.eval();
  CHECK(drop(x).to_vector<float>() == x.to_vector<float>());
  CHECK(nn::functional::dropout(x, 1.0).sum().item() == 0);
  CHECK_THROWS_WITH_AS(nn::Dropout(1.5), doctest::Contains("Dropout: p must be in [0, 1], got 1.5"),
                       tg::ValueError);
}

TEST_CASE("dropout: the gradient flows through the kept elements only") {
  tg::Generator gen(2);
  tg::Tensor x = leaf({4, 5});
  tg::Tensor y = nn::functional::dropout(x, 0.5, true, &gen);
  y.sum().backward();
  const auto yv = y.to_vector<double>(), gv = x.grad().to_vector<double>();
  for (std::size_t i = 0; i < yv.size(); ++i) CHECK(gv[i] == (yv[i] == 0 ? 0 : 2));
}

TEST_CASE("flatten/identity: shapes") {
  nn::Flatten f;
  CHECK(f(tg::zeros({8, 1, 28, 28})).shape() == tg::Shape{8, 784});
  CHECK(nn::Flatten(0)(tg::zeros({2, 3})).shape() == tg::Shape{6});
  nn::Identity id;
  tg::Tensor x = tg::ones({2});
  CHECK(id(x).is_same(x));
}

TEST_CASE("unflatten: splits one dim, -1 inferred, undoes Flatten, errors") {
  nn::Unflatten u(1, {1, 28, 28});
  const tg::Tensor flat = leaf({4, 784});
  const tg::Tensor img = u(flat);
  CHECK(img.shape() == tg::Shape{4, 1, 28, 28});
  CHECK(nn::Flatten()(img).to_vector<double>() == flat.to_vector<double>());
  CHECK(nn::Unflatten(-1, {2, -1})(tg::zeros({3, 8})).shape() == tg::Shape{3, 2, 4});
  img.sum().backward();  // a reshape: the gradient flows back unchanged
  check_values(flat.grad(), std::vector<double>(4 * 784, 1.0));
  CHECK_THROWS_WITH_AS(nn::Unflatten(1, {3, 5})(tg::zeros({2, 16})),
                       "Unflatten: dim 1 of [2, 16] does not split into [3, 5]", tg::ShapeError);
  CHECK_THROWS_WITH_AS(nn::Unflatten(2, {2, 2})(tg::zeros({2, 4})),
                       "Unflatten: dim 2 is out of range for [2, 4]", tg::ValueError);
  CHECK_THROWS_WITH_AS(nn::Unflatten(1, {-1, -1}),
                       "Unflatten: sizes must be positive, one of them -1 at most: got [-1, -1]",
                       tg::ValueError);
  std::ostringstream os;
  os << u;
  CHECK(os.str() == "Unflatten(dim=1, unflattened_size=[1, 28, 28])");
}
