// The backward pass: accumulation, fan-out, release and retain, seeds, saved values changed in
// place, gradient buffers handed down, and graphs that cross threads.
#include <latch>
#include <thread>

#include "../helpers.h"

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

TEST_CASE("autograd: an output is checked for changes only when its op's backward reads it") {
  // exp's derivative is its output: changing the output first would give a wrong gradient.
  tg::Tensor x = leaf_of({0.5, -1.0});
  tg::Tensor y = tg::exp(x);
  {
    tg::NoGradGuard no_grad;
    y.mul_(2);
  }
  CHECK_THROWS_WITH_AS(y.sum().backward(),
                       doctest::Contains("the output of op 'exp' (tape entry #"), tg::StateError);
  // mul's and affine's read only their inputs (as in PyTorch, which checks only what an op
  // saved): their outputs may change, and the gradients stay exact.
  tg::Tensor w = leaf_of({1.0, 2.0});
  tg::Tensor h = w * tg::from_vector(std::vector<double>{3, 4});
  tg::Tensor z = w * 2.0 + 1.0;
  {
    tg::NoGradGuard no_grad;
    h.fill_(0);
    z.mul_(-3);
  }
  h.backward(tg::ones({2}, {.dtype = tg::kFloat64}));
  z.backward(tg::ones({2}, {.dtype = tg::kFloat64}));
  check_values(w.grad(), {5, 6});
  // std's gradient divides by its output, var's does not.
  w.zero_grad();
  tg::Tensor s = tg::std(w), v = tg::var(w);
  {
    tg::NoGradGuard no_grad;
    s.mul_(2);
    v.mul_(2);
  }
  CHECK_THROWS_WITH_AS(s.backward(), doctest::Contains("the output of op 'std'"), tg::StateError);
  v.backward();
  check_values(w.grad(), {-1, 1});  // 2 (w - mean) / (n - 1)
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

TEST_CASE("autograd: entries outlive the thread that recorded them and free on any thread") {
  // The tape's list names entries without owning them (Node::tape_state): a worker's list goes
  // with the worker while its entries live on; entries dropped on a worker are let go by the
  // recording thread's list. Run under ThreadSanitizer with the other tests here.
  tg::Tensor w = leaf_of({0.5, -1.5});
  const std::size_t bytes = tg::live_tensor_bytes();
  tg::Tensor y;
  std::thread([&] { y = tg::exp(w) * w; }).join();
  y.sum().backward();
  check_values(w.grad(), {1.5 * std::exp(0.5), -0.5 * std::exp(-1.5)});  // (1 + w) e^w
  y = tg::Tensor();
  CHECK(tg::tape_stats().entries == 0);

  // Graphs recorded here and dropped by a worker while this thread reads its tape.
  std::vector<tg::Tensor> graphs;
  for (int i = 0; i < 200; ++i) graphs.push_back(tg::tanh(w * static_cast<double>(i)) + w);
  CHECK(tg::tape_stats().entries == 600);
  std::latch start(2);
  std::thread dropper([&] {
    start.arrive_and_wait();
    for (tg::Tensor& g : graphs) g = tg::Tensor();
  });
  start.arrive_and_wait();
  for (int i = 0; i < 50; ++i) CHECK(tg::tape_stats().entries <= 600);
  dropper.join();
  CHECK(tg::tape_stats().entries == 0);
  w.set_grad({});
  CHECK(tg::live_tensor_bytes() == bytes);
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

namespace {
// A small graph with several entries between the loss and w (float64).
tg::Tensor shared_loss(const tg::Tensor& w, const tg::Tensor& x) {
  return (tg::tanh(x.matmul(w)) * x.matmul(w)).sum() + (w * w).sum();
}
}  // namespace

TEST_CASE("autograd: two threads running backward on one retained graph add up as one thread") {
  // Passes that fill .grad take turns, so each adds its whole gradient: the result is that of
  // the same passes run one after another (defect: the passes raced on the entries' gradient
  // buffers and on w.grad).
  constexpr int kPasses = 30;
  const tg::Tensor x = leaf({64, 128}, 3).detach();
  tg::Tensor w = leaf({128, 256}, 4);
  const tg::Tensor loss = shared_loss(w, x);
  for (int i = 0; i < 2 * kPasses; ++i) loss.backward({}, true);
  const std::vector<double> expected = w.grad().to_vector<double>();
  w.set_grad({});
  std::latch start(2);  // both threads begin together, so their passes overlap
  auto run = [&] {
    start.arrive_and_wait();
    for (int i = 0; i < kPasses; ++i) loss.backward({}, true);
  };
  std::thread a(run), b(run);
  a.join();
  b.join();
  CHECK(w.grad().to_vector<double>() == expected);
}

TEST_CASE("autograd: threads differentiating their own graphs of one shared leaf add up") {
  // Each thread records and differentiates a graph of its own that reads the shared w; their
  // passes take turns at w.grad (defect: additions into w.grad were lost).
  constexpr int kSteps = 30;
  const tg::Tensor x = leaf({64, 128}, 5).detach();
  tg::Tensor w = leaf({128, 256}, 6);
  for (int i = 0; i < 2 * kSteps; ++i) shared_loss(w, x).backward();
  const std::vector<double> expected = w.grad().to_vector<double>();
  w.set_grad({});
  std::latch start(2);
  auto run = [&] {
    start.arrive_and_wait();
    for (int i = 0; i < kSteps; ++i) shared_loss(w, x).backward();
  };
  std::thread a(run), b(run);
  a.join();
  b.join();
  CHECK(w.grad().to_vector<double>() == expected);
}

TEST_CASE("grad: two threads through one graph at once get the gradient or a clear error") {
  // grad() passes run side by side (they fill no .grad); one that reaches an entry another pass
  // is differentiating is refused by name rather than racing on its gradient buffer.
  const tg::Tensor x = leaf({64, 128}, 7).detach();
  tg::Tensor w = leaf({128, 256}, 8);
  const tg::Tensor loss = shared_loss(w, x);
  const std::vector<double> expected = tg::grad({loss}, {w}, {}, true)[0].to_vector<double>();
  struct Outcome {
    int right = 0, wrong = 0, refused = 0, other = 0;
  };
  std::latch start(2);
  auto run = [&](Outcome& o) {
    start.arrive_and_wait();
    for (int i = 0; i < 100; ++i) try {
        const auto g = tg::grad({loss}, {w}, {}, true);
        ++(g[0].to_vector<double>() == expected ? o.right : o.wrong);
      } catch (const tg::StateError& e) {
        const std::string m = e.what();
        ++(m.find("is being differentiated by another thread's backward pass right now") !=
                   std::string::npos
               ? o.refused
               : o.other);
      }
  };
  Outcome oa, ob;
  std::thread a(run, std::ref(oa)), b(run, std::ref(ob));
  a.join();
  b.join();
  CHECK(oa.wrong + ob.wrong == 0);
  CHECK(oa.other + ob.other == 0);
  CHECK(oa.right + ob.right + oa.refused + ob.refused == 200);
  CHECK(oa.right + ob.right > 0);
  // Nothing is left claimed: a later pass runs.
  CHECK(tg::grad({loss}, {w}, {}, true)[0].to_vector<double>() == expected);
}
