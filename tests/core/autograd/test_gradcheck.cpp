// gradcheck itself: it passes correct gradients and catches wrong ones, naming the element.
#include "../helpers.h"

TEST_CASE("gradcheck: catches a wrong backward and names the worst element") {
  tg::Tensor x = leaf({3, 4});
  // Backward is off by a factor of 2 on every element.
  auto wrong = [&] {
    return tg::apply_function(
        "wrong", {x},
        [](tg::FunctionCtx&, const std::vector<tg::Tensor>& in) { return in[0] * in[0]; },
        [&](tg::FunctionCtx&, const tg::Tensor& g) {
          return std::vector<tg::Tensor>{g * x * 4.0};
        });
  };
  const tg::GradcheckResult r = tg::gradcheck(wrong, {x});
  CHECK_FALSE(r.ok);
  CHECK(r.input == 0);
  CHECK(r.analytic == doctest::Approx(2 * r.numeric).epsilon(1e-6));
  CHECK(r.message.find("gradcheck FAILED: worst element is input 0 element") == 0);
}

TEST_CASE("gradcheck: leaves the caller's gradients untouched") {
  tg::Tensor x = leaf({2, 2});
  (x * 5.0).sum().backward();
  CHECK(tg::gradcheck([&] { return tg::exp(x); }, {x}).ok);
  check_values(x.grad(), {5, 5, 5, 5});
}

TEST_CASE("gradcheck: rejects inputs it cannot perturb") {
  tg::Tensor x = leaf({2});
  CHECK_THROWS_WITH_AS(tg::gradcheck([&] { return x * 2.0; }, {x * 1.0}),
                       doctest::Contains("input 0 is not a leaf"), tg::ValueError);
  tg::Tensor c = tg::ones({2}, {.dtype = tg::kFloat64});
  CHECK_THROWS_WITH_AS(tg::gradcheck([&] { return c * 2.0; }, {c}),
                       doctest::Contains("no input requires grad"), tg::ValueError);
}

TEST_CASE("gradcheck: float32 paths agree at a loose tolerance") {
  tg::Generator gen(5);
  tg::Tensor x = tg::randn({3, 4}, {.requires_grad = true}, &gen);
  tg::Tensor w = tg::randn({4, 2}, {.requires_grad = true}, &gen);
  const tg::GradcheckOptions loose{.eps = 1e-2, .atol = 1e-2, .rtol = 1e-2};
  auto r =
      tg::gradcheck([&] { return tg::log_softmax(tg::tanh(tg::matmul(x, w)), 1); }, {x, w}, loose);
  INFO(r.message);
  CHECK(r.ok);
  r = tg::gradcheck([&] { return tg::sigmoid(x) * x / (tg::abs(x) + 1.0); }, {x}, loose);
  INFO(r.message);
  CHECK(r.ok);
}

TEST_CASE("gradcheck: float32 forward values match float64 to float precision") {
  tg::Tensor x64 = leaf({5, 7});
  tg::Tensor x32 = x64.detach().to(tg::kFloat32);
  auto f = [](const tg::Tensor& x) {
    return tg::softmax(tg::matmul(tg::relu(x), x.t()), 1).sum(0) + tg::exp(x).mean();
  };
  const auto a = f(x64).to_vector<double>(), b = f(x32).to_vector<double>();
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(b[i] == doctest::Approx(a[i]).epsilon(1e-5));
}
