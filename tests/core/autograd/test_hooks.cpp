// Gradient hooks: post-backward hooks and post-accumulate-grad hooks on leaves.
#include <thread>

#include "../helpers.h"

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
