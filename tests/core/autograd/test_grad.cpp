// grad() (torch.autograd.grad), backward() from several outputs, and set_grad (x.grad = g).
#include "../helpers.h"

namespace {
// y = sum(tanh(x w) * c): a small graph with a leaf on each side of a product.
struct Graph {
  tg::Tensor x = leaf({3, 4});
  tg::Tensor w = leaf({4, 2}, 9);
  tg::Tensor c = leaf({3, 2}, 5).detach();
  tg::Tensor h, y;
  Graph() {
    h = tg::tanh(tg::matmul(x, w));
    y = (h * c).sum();
  }
};
}  // namespace

TEST_CASE("grad: the same gradients as backward, and no .grad is touched") {
  Graph a, b;
  const std::vector<tg::Tensor> g = tg::grad({a.y}, {a.x, a.w});
  REQUIRE(g.size() == 2);
  CHECK(!a.x.grad().defined());
  CHECK(!a.w.grad().defined());
  CHECK(!g[0].requires_grad());
  b.y.backward();
  check_values(g[0], b.x.grad().to_vector<double>(), 0);
  check_values(g[1], b.w.grad().to_vector<double>(), 0);
  // A leaf that already holds a gradient keeps it as it was.
  Graph d;
  d.x.set_grad(tg::ones({3, 4}, {.dtype = tg::kFloat64}));
  tg::grad({d.y}, {d.w});
  check_values(d.x.grad(), std::vector<double>(12, 1.0), 0);
}

TEST_CASE("grad: a recorded result as input gives the gradient with respect to it") {
  Graph a;
  const tg::Tensor gh = tg::grad({a.y}, {a.h}, {}, true)[0];
  check_values(gh, a.c.to_vector<double>(), 0);  // y = sum(h c): dy/dh = c
  // Both a result and a leaf upstream of it, in one pass.
  const std::vector<tg::Tensor> g = tg::grad({a.y}, {a.h, a.x});
  check_values(g[0], a.c.to_vector<double>(), 0);
  Graph b;
  b.y.backward();
  check_values(g[1], b.x.grad().to_vector<double>(), 0);
}

TEST_CASE("grad: several outputs weighted by grad_outputs, and an output given twice adds up") {
  tg::Tensor x = leaf_of({1, 2, 3});
  const tg::Tensor a = x * x, b = tg::sum(x);
  const tg::Tensor ga = tg::tensor({1, 0, 2}, {}, {.dtype = tg::kFloat64});
  const tg::Tensor gb = tg::scalar_tensor(3, {.dtype = tg::kFloat64});
  const tg::Tensor g = tg::grad({a, b}, {x}, {ga, gb}, true)[0];
  check_values(g, {2 * 1 * 1 + 3, 2 * 2 * 0 + 3, 2 * 3 * 2 + 3});
  check_values(tg::grad({b, b}, {x})[0], {2, 2, 2});
  // A leaf as its own output: its gradient is the seed.
  check_values(tg::grad({x}, {x}, {ga})[0], {1, 0, 2});
}

TEST_CASE("grad: unused inputs, released graphs and bad arguments are named") {
  Graph a;
  tg::Tensor unused = leaf({2});
  CHECK_THROWS_WITH_AS(tg::grad({a.y}, {a.x, unused}, {}, true),
                       doctest::Contains("grad: input 1 was not used to compute the outputs"),
                       tg::StateError);
  const std::vector<tg::Tensor> g = tg::grad({a.y}, {a.x, unused}, {}, true, true);
  CHECK(g[0].defined());
  CHECK(!g[1].defined());
  tg::grad({a.y}, {a.x});  // releases the graph
  CHECK_THROWS_WITH_AS(tg::grad({a.y}, {a.x}), doctest::Contains("already released"),
                       tg::StateError);
  Graph b;
  CHECK_THROWS_WITH_AS(tg::grad({b.y}, {tg::zeros({2})}),
                       doctest::Contains("grad: input 0 does not require grad"), tg::StateError);
  CHECK_THROWS_WITH_AS(tg::grad({tg::zeros({1})}, {b.x}),
                       doctest::Contains("grad: output 0 does not require grad"), tg::StateError);
  CHECK_THROWS_WITH_AS(tg::grad({b.h}, {b.x}),
                       doctest::Contains("grad: the tensor has shape [3, 2]"), tg::StateError);
  CHECK_THROWS_WITH_AS(tg::grad({b.h}, {b.x}, {tg::ones({2, 3}, {.dtype = tg::kFloat64})}),
                       doctest::Contains("grad: gradient shape [2, 3] does not match"),
                       tg::ShapeError);
  CHECK_THROWS_WITH_AS(tg::grad({b.y, b.h}, {b.x}, {tg::Tensor()}),
                       doctest::Contains("grad: 1 grad_outputs for 2 outputs"), tg::ValueError);
  CHECK_THROWS_WITH_AS(tg::grad({}, {b.x}), doctest::Contains("grad: no outputs given"),
                       tg::ValueError);
}

TEST_CASE("grad: no hook runs and no retained gradient is filled") {
  Graph a;
  int leaf_hook = 0, after = 0;
  a.x.register_post_accumulate_grad_hook([&](const tg::Tensor&) { ++leaf_hook; });
  const int handle = tg::add_post_backward_hook([&] { ++after; });
  a.h.retain_grad();
  tg::grad({a.y}, {a.x}, {}, true);
  CHECK(leaf_hook == 0);
  CHECK(after == 0);
  CHECK(!a.h.grad().defined());
  a.y.backward();  // and backward still runs them
  CHECK(leaf_hook == 1);
  CHECK(after == 1);
  CHECK(a.h.grad().defined());
  tg::remove_post_backward_hook(handle);
}

TEST_CASE("backward of several outputs: one pass, the gradients of their weighted sum") {
  tg::Tensor x = leaf_of({1, 2, 3});
  const tg::Tensor a = x * x, b = tg::sum(x) * 2;
  tg::backward({a, b}, {tg::ones({3}, {.dtype = tg::kFloat64}), tg::Tensor()});
  check_values(x.grad(), {2 + 2, 4 + 2, 6 + 2});
  tg::Tensor z = leaf_of({1, 2});
  tg::backward({tg::sum(z * 3), tg::sum(z)});
  check_values(z.grad(), {4, 4});
  CHECK_THROWS_WITH_AS(tg::backward({z * 2}),
                       doctest::Contains("backward: the tensor has shape [2]"), tg::StateError);
}

TEST_CASE("set_grad: replaces, shares, and clears the gradient, as torch's x.grad = g") {
  tg::Tensor x = leaf_of({1, 2});
  const tg::Tensor g = tg::tensor({10, 20}, {}, {.dtype = tg::kFloat64});
  x.set_grad(g);
  check_values(x.grad(), {10, 20});
  tg::sum(x * 3).backward();  // accumulates into the shared buffer, in place
  check_values(x.grad(), {13, 23});
  check_values(g, {13, 23});
  x.set_grad(tg::Tensor());
  CHECK(!x.grad().defined());
  tg::sum(x).backward();
  check_values(x.grad(), {1, 1});
  CHECK_THROWS_WITH_AS(x.set_grad(tg::zeros({3}, {.dtype = tg::kFloat64})),
                       doctest::Contains("set_grad: the gradient is float64 [3] but the tensor is "
                                         "float64 [2]"),
                       tg::ValueError);
  CHECK_THROWS_AS(x.set_grad(tg::zeros({2})), tg::ValueError);  // float32 beside float64
  // A gradient set by hand drives an optimizer like a computed one.
  tg::Tensor p = leaf_of({1, 1});
  p.set_grad(tg::tensor({0.5, -0.5}, {}, {.dtype = tg::kFloat64}));
  tg::optim::SGD opt({p}, {.lr = 0.1});
  opt.step();
  check_values(p, {0.95, 1.05});
}
