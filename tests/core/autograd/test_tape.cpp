// The tape: recording under grad mode and NoGradGuard, what is never recorded, and a size that
// stays bounded (over long runs and exceptions half-way).
#include <thread>

#include "../helpers.h"

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

TEST_CASE("autograd: int64 results are never recorded") {
  tg::Tensor x = leaf({2, 3});
  tg::Tensor i = tg::arange(6).to(tg::kInt64).reshape({2, 3});
  CHECK_FALSE((i + i).requires_grad());
  CHECK_FALSE(x.to(tg::kInt64).requires_grad());
  CHECK_FALSE(i.t().requires_grad());
  CHECK(tg::tape_stats().entries == 0);
}
