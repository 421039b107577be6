// User-defined differentiable functions.
#include "../helpers.h"

namespace {
// y = x^3, written as a user would: forward and backward with tensor ops.
struct Cube {
  static constexpr const char* name = "cube";
  static tg::Tensor forward(tg::FunctionCtx& ctx, const tg::Tensor& x) {
    ctx.save_for_backward({x});
    return x * x * x;
  }
  static std::vector<tg::Tensor> backward(tg::FunctionCtx& ctx, const tg::Tensor& g) {
    const tg::Tensor& x = ctx.saved()[0];
    return {g * 3.0 * x * x};
  }
};

// y = a * w + b with a scalar kept in the context; b gets no gradient.
struct ScaledMul {
  static tg::Tensor forward(tg::FunctionCtx& ctx, const tg::Tensor& a, const tg::Tensor& w) {
    ctx.save_for_backward({a, w});
    ctx.scalars = {2.0};
    return a * w * ctx.scalars[0];
  }
  static std::vector<tg::Tensor> backward(tg::FunctionCtx& ctx, const tg::Tensor& g) {
    const double k = ctx.scalars[0];
    return {(g * ctx.saved()[1] * k).sum(0), g * ctx.saved()[0] * k};
  }
};
}  // namespace

TEST_CASE("function: a custom op records one entry and passes gradcheck") {
  tg::Tensor x = leaf({3, 4});
  tg::Tensor y = tg::apply<Cube>(x);
  CHECK(y.grad_fn() == "cube");
  CHECK(tg::tape_stats().entries == 1);
  check_values(y, (x * x * x).to_vector<double>());
  check_gradient([&] { return tg::apply<Cube>(x); }, {x});
  check_gradient([&] { return tg::sigmoid(tg::apply<Cube>(x * 0.5)); }, {x});
}

TEST_CASE("function: several inputs, broadcasting reduced by the user") {
  tg::Tensor a = leaf({4}), w = leaf({3, 4}, 8);
  check_gradient([&] { return tg::apply<ScaledMul>(a, w); }, {a, w});
}

TEST_CASE("function: a gradient of the wrong shape is named") {
  tg::Tensor x = leaf({3});
  tg::Tensor y = tg::apply_function(
      "bad", {x}, [](tg::FunctionCtx&, const std::vector<tg::Tensor>& in) { return in[0] * 2.0; },
      [](tg::FunctionCtx&, const tg::Tensor&) {
        return std::vector<tg::Tensor>{tg::ones({4}, {.dtype = tg::kFloat64})};
      });
  CHECK_THROWS_WITH_AS(
      y.sum().backward(),
      doctest::Contains(
          "bad: backward's gradient for input 0 is [4] float64, expected [3] float64"),
      tg::ShapeError);
  CHECK(tg::tape_stats().entries <= 2);
}

namespace {
// y = e^x, its backward through the saved output, as torch's docs write Exp.
struct Exp {
  static tg::Tensor forward(tg::FunctionCtx& ctx, const tg::Tensor& x) {
    tg::Tensor y = tg::exp(x);
    ctx.save_for_backward({y});
    return y;
  }
  static std::vector<tg::Tensor> backward(tg::FunctionCtx& ctx, const tg::Tensor& g) {
    return {g * ctx.saved()[0]};
  }
};
}  // namespace

TEST_CASE("function: a backward written in ops has a second derivative (create_graph)") {
  const tg::Tensor x = leaf({3, 4});
  // Through a saved input, and through a saved output (which stands for the recorded result).
  check_second([&] { return tg::apply<Cube>(x); }, {x});
  check_second([&] { return tg::sigmoid(tg::apply<Cube>(x * 0.5)); }, {x});
  check_second([&] { return tg::apply<Exp>(x) * x; }, {x});
  const tg::Tensor a = leaf({4}), w = leaf({3, 4}, 8);
  check_second([&] { return tg::square(tg::apply<ScaledMul>(a, w)); }, {a, w});
  // d^2/dx^2 e^x = e^x, element for element.
  const tg::Tensor d1 = tg::grad({tg::apply<Exp>(x).sum()}, {x}, {}, {.create_graph = true})[0];
  const tg::Tensor d2 = tg::grad({d1.sum()}, {x})[0];
  check_values(d2, tg::exp(x).to_vector<double>());
}
