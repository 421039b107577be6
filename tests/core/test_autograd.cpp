// The tape: accumulation, fan-out, release and retain, detach, NoGradGuard, error states,
// bounded size, anomaly mode and the graph views.
#include <thread>

#include "helpers.h"

TEST_CASE("autograd: a diamond y = x*x + x sums both paths") {
  tg::Tensor x = leaf_of({3.0});
  tg::Tensor y = x * x + x;
  y.backward();
  check_values(x.grad(), {7.0});  // 2x + 1
}

TEST_CASE("autograd: leaves accumulate across backward calls until zero_grad") {
  tg::Tensor x = leaf_of({2.0, -1.0});
  (x * 3.0).sum().backward();
  (x * x).sum().backward();
  check_values(x.grad(), {3 + 4, 3 - 2});
  x.zero_grad();
  check_values(x.grad(), {0, 0});
  (x * 3.0).sum().backward();
  check_values(x.grad(), {3, 3});
}

TEST_CASE("autograd: a tensor used many times gets every contribution") {
  tg::Tensor x = leaf_of({1.0, 2.0});
  tg::Tensor a = x * 2.0, b = x * x, c = tg::exp(x);
  ((a + b) * c).sum().backward();
  // d/dx [(2x + x^2) e^x] = (2 + 2x) e^x + (2x + x^2) e^x
  check_values(x.grad(), {(4 + 3) * std::exp(1.0), (6 + 8) * std::exp(2.0)});
}

TEST_CASE("autograd: backward releases the graph unless retain_graph is asked") {
  tg::Tensor x = leaf_of({1.0, 2.0});
  tg::Tensor y = (x * x).sum();
  y.backward({}, /*retain_graph=*/true);
  y.backward();
  check_values(x.grad(), {4, 8});
  CHECK_THROWS_WITH_AS(y.backward(), doctest::Contains("already released by an earlier backward"),
                       tg::StateError);
  CHECK(tg::tape_stats().entries == 0);
}

TEST_CASE("autograd: a shared subgraph released by one loss cannot be reused by another") {
  tg::Tensor x = leaf_of({1.0});
  tg::Tensor h = x * x;
  tg::Tensor l1 = h * 2.0, l2 = h * 3.0;
  l1.backward();
  CHECK_THROWS_WITH_AS(l2.backward(), doctest::Contains("op 'mul'"), tg::StateError);
}

TEST_CASE("autograd: backward on a non-scalar needs a gradient of its shape") {
  tg::Tensor x = leaf_of({1.0, 2.0, 3.0}, {3});
  tg::Tensor y = x * x;
  CHECK_THROWS_WITH_AS(y.backward(),
                       doctest::Contains("backward: the tensor has shape [3], not one element"),
                       tg::StateError);
  CHECK_THROWS_WITH_AS(
      y.backward(tg::ones({2}, {.dtype = tg::kFloat64})),
      doctest::Contains("gradient shape [2] does not match the tensor's shape [3]"),
      tg::ShapeError);
  y.backward(leaf_of({1.0, 0.5, 2.0}).detach());
  check_values(x.grad(), {2, 2, 12});
}

TEST_CASE("autograd: backward on a tensor that needs no grad says why") {
  tg::Tensor x = tg::ones({2});
  CHECK_THROWS_WITH_AS((x * 2.0).sum().backward(), doctest::Contains("does not require grad"),
                       tg::StateError);
  CHECK_THROWS_AS(tg::Tensor().backward(), tg::StateError);
}

TEST_CASE("autograd: detach cuts the gradient and shares storage") {
  tg::Tensor x = leaf_of({2.0});
  tg::Tensor d = (x * x).detach();
  CHECK_FALSE(d.requires_grad());
  CHECK(d.is_leaf());
  (x * d).sum().backward();  // d is a constant 4
  check_values(x.grad(), {4});
}

TEST_CASE("autograd: nothing is recorded under NoGradGuard") {
  tg::Tensor x = leaf_of({1.0, 2.0});
  {
    tg::NoGradGuard no_grad;
    CHECK_FALSE(tg::is_grad_enabled());
    tg::Tensor y = x * x;
    CHECK_FALSE(y.requires_grad());
    CHECK(tg::tape_stats().entries == 0);
  }
  CHECK(tg::is_grad_enabled());
  CHECK((x * x).requires_grad());
}

TEST_CASE("autograd: requires_grad_ only on floating leaves") {
  tg::Tensor x = leaf_of({1.0});
  tg::Tensor y = x * 2.0;
  CHECK_FALSE(y.is_leaf());
  CHECK(y.grad_fn() == "mul");
  CHECK_THROWS_WITH_AS(y.requires_grad_(), doctest::Contains("only leaves can be marked"),
                       tg::StateError);
  CHECK_THROWS_AS(tg::zeros({2}, {.dtype = tg::kInt64}).requires_grad_(), tg::ValueError);
}

TEST_CASE("autograd: retain_grad keeps a non-leaf's gradient") {
  tg::Tensor x = leaf_of({1.0, 2.0});
  tg::Tensor h = x * 3.0;
  h.retain_grad();
  (h * h).sum().backward();
  check_values(h.grad(), {6, 12});
  check_values(x.grad(), {18, 36});
}

TEST_CASE(
    "autograd: elementwise backward reuses the incoming gradient only when nothing else reads it") {
  // Chains of unary ops hand their gradient buffer down; a retained gradient, a second consumer
  // and a user-given seed must each still see their own values.
  tg::Tensor x = leaf({3, 4});
  check_gradient([&] { return tg::tanh(tg::sigmoid(tg::exp(x * 0.5))); }, {x});
  check_gradient(
      [&] {
        tg::Tensor a = x * 2.0;
        return tg::sigmoid(a) + tg::relu(a) * a;  // a gets gradients from three places
      },
      {x});
  tg::Tensor s = tg::sigmoid(x);
  s.retain_grad();
  tg::Tensor t = tg::tanh(s);
  t.retain_grad();
  tg::Tensor seed = tg::ones({3, 4}, {.dtype = tg::kFloat64});
  tg::tanh(t).backward(seed);
  const std::vector<double> sv = s.to_vector<double>(), tv = t.to_vector<double>();
  std::vector<double> gt, gs, gx;
  for (std::size_t i = 0; i < sv.size(); ++i) {
    gt.push_back(1 - std::tanh(tv[i]) * std::tanh(tv[i]));
    gs.push_back(gt.back() * (1 - tv[i] * tv[i]));
    gx.push_back(gs.back() * sv[i] * (1 - sv[i]));
  }
  check_values(t.grad(), gt);
  check_values(s.grad(), gs);
  check_values(x.grad(), gx);
  check_values(seed, std::vector<double>(12, 1.0));  // the caller's seed is left alone
}

TEST_CASE("autograd: backward of a leaf accumulates the seed") {
  tg::Tensor x = leaf_of({1.0, 2.0});
  x.backward(tg::ones({2}, {.dtype = tg::kFloat64}));
  check_values(x.grad(), {1, 1});
}

TEST_CASE("autograd: the tape stays empty over 100k train steps and 100k forward passes") {
  tg::Tensor w = leaf_of({0.5, -0.5}, {1, 2});
  tg::Tensor x = tg::from_vector(std::vector<double>{1, 2}, {2, 1});
  const std::size_t bytes_before = tg::live_tensor_bytes();
  for (int i = 0; i < 100000; ++i) {
    tg::Tensor loss = tg::matmul(w, x).sum();
    loss.backward();
    w.zero_grad();
  }
  CHECK(tg::tape_stats().entries == 0);
  const std::size_t bytes_after_train = tg::live_tensor_bytes();
  for (int i = 0; i < 100000; ++i) {
    tg::Tensor out = tg::sigmoid(tg::matmul(w, x));  // recorded, never differentiated
    (void)out;
  }
  CHECK(tg::tape_stats().entries == 0);
  CHECK(tg::tape_stats().bytes == 0);
  // Only w's gradient buffer (allocated at the first backward) may have appeared.
  CHECK(bytes_after_train <= bytes_before + 2 * sizeof(double));
  CHECK(tg::live_tensor_bytes() == bytes_after_train);
}

TEST_CASE("autograd: an exception thrown half-way leaves no entries behind") {
  tg::Tensor w = leaf({3, 4});
  for (int i = 0; i < 100; ++i) {
    try {
      tg::Tensor h = tg::relu(w * 2.0);
      tg::Tensor bad = tg::matmul(h, w);  // (3x4)(3x4): throws
      (void)bad;
    } catch (const tg::ShapeError&) {
    }
  }
  CHECK(tg::tape_stats().entries == 0);
}

TEST_CASE("autograd: tape_stats and tape_dump describe the live entries") {
  tg::Tensor x = leaf({2, 3});
  tg::Tensor y = tg::sigmoid(x * 2.0);
  const tg::TapeStats s = tg::tape_stats();
  CHECK(s.entries == 2);
  CHECK(s.bytes == 2 * 6 * sizeof(double));
  const std::string dump = tg::tape_dump();
  CHECK(dump.find("mul ([2, 3]) -> [2, 3] float64 48 bytes") != std::string::npos);
  CHECK(dump.find("sigmoid ([2, 3]) -> [2, 3]") != std::string::npos);
  y.sum().backward();
  CHECK(tg::tape_stats().entries == 0);
}

TEST_CASE("autograd: to_dot draws ops, leaves and edges") {
  tg::Tensor a = leaf({2, 2}), b = leaf({2, 2}, 8);
  const std::string dot = tg::to_dot(tg::matmul(a, b) + a);
  CHECK(dot.rfind("digraph tapegrad {", 0) == 0);
  CHECK(dot.find("label=\"matmul") != std::string::npos);
  CHECK(dot.find("label=\"add") != std::string::npos);
  CHECK(dot.find("label=\"leaf [2, 2]\"") != std::string::npos);
  std::size_t edges = 0;
  for (std::size_t p = dot.find("->"); p != std::string::npos; p = dot.find("->", p + 1)) ++edges;
  CHECK(edges == 4);  // a->matmul, b->matmul, matmul->add, a->add
}

TEST_CASE("autograd: anomaly mode names the op that made a NaN") {
  tg::Tensor x = leaf_of({-1.0, 1.0});
  {
    tg::DetectAnomalyGuard anomaly;
    CHECK_THROWS_WITH_AS(tg::log(x), doctest::Contains("anomaly: op 'log'"), tg::AnomalyError);
    // Forward finite, backward infinite: d sqrt(x)/dx at 0.
    tg::Tensor z = leaf_of({0.0, 1.0});
    tg::Tensor y = tg::sqrt(z).sum();
    CHECK_THROWS_WITH_AS(y.backward(), doctest::Contains("op 'sqrt' (tape entry #"),
                         tg::AnomalyError);
  }
  CHECK_FALSE(tg::is_anomaly_enabled());
  CHECK_NOTHROW(tg::log(x));  // NaN allowed without anomaly mode
  CHECK(tg::tape_stats().entries == 0);
}

TEST_CASE("autograd: gradients match with 1 and with 2 threads") {
  tg::Tensor x = leaf({300, 200});
  auto run = [&](int threads) {
    tg::set_num_threads(threads);
    x.zero_grad();
    (tg::tanh(x) * tg::sigmoid(x)).sum().backward();
    return x.grad().to_vector<double>();
  };
  const int before = tg::get_num_threads();
  const auto one = run(1), two = run(2);
  tg::set_num_threads(before);
  CHECK(one == two);
}

TEST_CASE(
    "autograd: a saved value changed in place before backward is an error, not a wrong gradient") {
  tg::Tensor w = leaf_of({1.0, 2.0});
  tg::Tensor x = tg::from_vector(std::vector<double>{3, 4});
  tg::Tensor loss = (w * x).sum();
  {
    tg::NoGradGuard no_grad;
    x.mul_(10);  // e.g. the next batch written into the same buffer too early
  }
  CHECK_THROWS_WITH_AS(loss.backward({}, true),
                       doctest::Contains("backward: input 1 of op 'mul' (tape entry #"),
                       tg::StateError);
  CHECK_THROWS_WITH_AS(loss.backward(),
                       doctest::Contains("was modified in place after it was recorded"),
                       tg::StateError);
  // After backward, updating parameters in place (what optimizers do) is fine.
  w.zero_grad();
  tg::Tensor loss2 = (w * x).sum();
  loss2.backward();
  {
    tg::NoGradGuard no_grad;
    w.add_(w.grad(), -0.1);
  }
  check_values(w.grad(), {30, 40});
}

TEST_CASE("autograd: a graph that crosses threads gets every gradient") {
  // Recorded partly on a worker thread, differentiated on this one (defect: w.grad() stayed
  // undefined and nothing was raised).
  tg::Tensor w = leaf_of({1.5, -2.0, 0.5});
  tg::Tensor h;
  std::thread([&] { h = w * w; }).join();
  (h * w + w).sum().backward();  // d/dw (w^3 + w) = 3 w^2 + 1
  check_values(w.grad(), {3 * 2.25 + 1, 3 * 4.0 + 1, 3 * 0.25 + 1});
  CHECK(tg::tape_stats().entries == 0);
}

TEST_CASE("autograd: backward runs on a graph recorded wholly on another thread") {
  tg::Tensor w = leaf_of({2.0, 3.0});
  tg::Tensor loss;
  std::thread([&] { loss = (tg::exp(w) * w).sum(); }).join();
  loss.backward();
  check_values(w.grad(), {3 * std::exp(2.0), 4 * std::exp(3.0)});  // (1 + w) e^w
}

TEST_CASE("autograd: a graph that goes to another thread and back keeps topological order") {
  // x -> a (here) -> b (worker, from a and x) -> c (here, from b and a): a diamond whose paths
  // run on both tapes; a's gradient must wait for c's and b's.
  tg::Tensor x = leaf_of({0.3, -0.7});
  tg::Tensor a = tg::sigmoid(x);
  tg::Tensor b;
  std::thread([&] { b = a * x; }).join();
  tg::Tensor c = (b + a) * a;
  c.sum().backward();
  tg::Tensor x2 = leaf_of({0.3, -0.7});
  tg::Tensor a2 = tg::sigmoid(x2);
  ((a2 * x2 + a2) * a2).sum().backward();
  check_values(x.grad(), x2.grad().to_vector<double>(), 0);
}

TEST_CASE("autograd: grad_fn names the op the user called") {
  tg::Tensor x = leaf({2, 3}), w = leaf({2, 3}, 8);
  CHECK((x + w).grad_fn() == "add");
  CHECK((x - w).grad_fn() == "sub");
  CHECK((x * w).grad_fn() == "mul");
  CHECK((x / w).grad_fn() == "div");
  CHECK((x + 1.0).grad_fn() == "add");
  CHECK((2.0 - x).grad_fn() == "sub");
  CHECK((x * 3.0).grad_fn() == "mul");
  CHECK((x / 4.0).grad_fn() == "div");
  CHECK((-x).grad_fn() == "neg");
  CHECK(tg::affine(x, 2, 1).grad_fn() == "affine");
}

TEST_CASE("autograd: int64 results are never recorded") {
  tg::Tensor x = leaf({2, 3});
  tg::Tensor i = tg::arange(6).to(tg::kInt64).reshape({2, 3});
  CHECK_FALSE((i + i).requires_grad());
  CHECK_FALSE(x.to(tg::kInt64).requires_grad());
  CHECK_FALSE(i.t().requires_grad());
  CHECK(tg::tape_stats().entries == 0);
}

TEST_CASE("post-backward hooks: run after each completed backward, removable") {
  int calls = 0;
  const int h = tg::add_post_backward_hook([&] { ++calls; });
  tg::Tensor x = leaf({3});
  (x * x).sum().backward();
  CHECK(calls == 1);
  x.backward(tg::ones({3}, {.dtype = tg::kFloat64}));  // a leaf's own backward too
  CHECK(calls == 2);
  tg::Tensor y = (x * 2.0).sum();
  tg::remove_post_backward_hook(h);
  y.backward();
  CHECK(calls == 2);
  CHECK_THROWS_WITH_AS(tg::add_post_backward_hook(nullptr),
                       "add_post_backward_hook: the function is empty", tg::ValueError);
}

TEST_CASE("post-accumulate-grad hooks: once per backward, when the leaf's gradient is complete") {
  tg::Tensor w1 = leaf_of({2.0}), w2 = leaf_of({3.0});
  std::vector<std::string> order;
  std::vector<double> seen;
  const int post = tg::add_post_backward_hook([&] { order.push_back("end"); });
  w1.register_post_accumulate_grad_hook([&](const tg::Tensor& t) {
    order.push_back("w1");
    seen.push_back(t.grad().item());
  });
  const int h2 = w2.register_post_accumulate_grad_hook([&](const tg::Tensor& t) {
    CHECK(t.is_same(w2));
    order.push_back("w2");
    seen.push_back(t.grad().item());
  });
  // w1 is used three times (h twice, and in y); w2 once, near the loss, so its gradient is
  // complete first, while w1's uses further down the tape are still to run.
  tg::Tensor h = w1 * w1 + w1;
  tg::Tensor y = h * w2 + w1;
  y.backward(tg::Tensor(), /*retain_graph=*/true);
  CHECK(order == std::vector<std::string>{"w2", "w1", "end"});
  CHECK(seen == std::vector<double>{6.0, (2 * 2.0 + 1) * 3.0 + 1});
  // The hook sees the accumulated gradient (a second pass adds to the first).
  y.backward();
  CHECK(seen.back() == 2 * 16.0);
  CHECK(order.size() == 6);

  // Removed hooks stop; a leaf's own backward runs its hooks.
  w2.remove_post_accumulate_grad_hook(h2);
  order.clear();
  (w2 * w1).backward();
  CHECK(order == std::vector<std::string>{"w1", "end"});
  order.clear();
  w1.backward(tg::ones({1}, {.dtype = tg::kFloat64}));
  CHECK(order == std::vector<std::string>{"w1", "end"});
  tg::remove_post_backward_hook(post);
}

TEST_CASE("post-accumulate-grad hooks: a leaf reached along some uses only still fires") {
  // z = 2w reaches the custom op, whose backward gives z no gradient: the use of w inside z
  // never runs, so w's gradient is complete only when the pass ends.
  tg::Tensor w = leaf_of({1.5});
  int calls = 0;
  double expected = 1.0;
  w.register_post_accumulate_grad_hook([&](const tg::Tensor& t) {
    ++calls;
    CHECK(t.grad().item() == expected);
  });
  tg::Tensor z = w * 2.0;
  tg::Tensor y = tg::apply_function(
      "pass_second", {z, w},
      [](tg::FunctionCtx&, const std::vector<tg::Tensor>& in) { return in[0] + in[1]; },
      [](tg::FunctionCtx&, const tg::Tensor& g) {
        return std::vector<tg::Tensor>{{}, g};
      });
  y.backward();
  CHECK(calls == 1);
  // A leaf the pass never reaches does not fire.
  tg::Tensor other = leaf_of({1.0});
  int other_calls = 0;
  other.register_post_accumulate_grad_hook([&](const tg::Tensor&) { ++other_calls; });
  expected = 1.0 + 3.0;
  (w * 3.0).backward();
  CHECK(other_calls == 0);
  CHECK(calls == 2);
}

TEST_CASE("post-accumulate-grad hooks: errors") {
  tg::Tensor w = leaf_of({1.0});
  CHECK_THROWS_WITH_AS((w * 2.0).register_post_accumulate_grad_hook([](const tg::Tensor&) {}),
                       "register_post_accumulate_grad_hook: only leaves accumulate gradients; "
                       "this tensor comes from op 'mul'",
                       tg::StateError);
  CHECK_THROWS_WITH_AS(tg::zeros({2}).register_post_accumulate_grad_hook([](const tg::Tensor&) {}),
                       "register_post_accumulate_grad_hook: the tensor does not require grad",
                       tg::StateError);
  CHECK_THROWS_WITH_AS(w.register_post_accumulate_grad_hook(nullptr),
                       "register_post_accumulate_grad_hook: the function is empty", tg::ValueError);
  // A hook that throws makes backward throw; the next backward is clean.
  const int h = w.register_post_accumulate_grad_hook(
      [](const tg::Tensor&) { throw std::runtime_error("hook failed"); });
  CHECK_THROWS_WITH((w * w).backward(), "hook failed");
  w.remove_post_accumulate_grad_hook(h);
  w.zero_grad();
  (w * w).backward();
  check_values(w.grad(), {2.0});
}
