// The tape: recording under grad mode and NoGradGuard, what is never recorded, and a size that
// stays bounded (over long runs and exceptions half-way).
#include <pthread.h>

#include <thread>

#include "../helpers.h"
#include "autograd/tape.h"

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

TEST_CASE("autograd: a chain of 100k recorded ops frees itself on a 2 MiB stack") {
  // Each entry holds the one before it, so the last handle going frees the whole chain. That
  // used to recurse once per entry: at tens of bytes per level this chain needs megabytes of
  // stack, and it overflowed. std::thread cannot choose its stack size; pthread can.
  struct Result {
    std::size_t bytes_before = 0, bytes_with_chain = 0, bytes_after = 0, entries_after = 1;
  } r;
  auto body = [](void* p) -> void* {
    Result& res = *static_cast<Result*>(p);
    res.bytes_before = tg::live_tensor_bytes();
    {
      const tg::Tensor x = leaf_of({1.0});
      tg::Tensor y = x;
      for (int i = 0; i < 100000; ++i) y = y * 1.0;
      res.bytes_with_chain = tg::live_tensor_bytes();
    }
    res.bytes_after = tg::live_tensor_bytes();
    res.entries_after = tg::tape_stats().entries;
    return nullptr;
  };
  pthread_attr_t attr;
  REQUIRE(pthread_attr_init(&attr) == 0);
  REQUIRE(pthread_attr_setstacksize(&attr, std::size_t{2} << 20) == 0);
  pthread_t thread;
  REQUIRE(pthread_create(&thread, &attr, body, &r) == 0);
  REQUIRE(pthread_join(thread, nullptr) == 0);
  pthread_attr_destroy(&attr);
  CHECK(r.bytes_with_chain >= r.bytes_before + 100000 * sizeof(double));
  CHECK(r.bytes_after == r.bytes_before);
  CHECK(r.entries_after == 0);
}

namespace {
// y = 2 x, with a backward that reads y (gx += g y / x, which is 2 g) marked or not.
template <bool kMarked>
tg::Tensor doubled(const tg::Tensor& x) {
  tg::ImplPtr y = tg::make_impl(x.shape(), x.dtype());
  for (std::int64_t i = 0; i < x.numel(); ++i)
    y->data<double>()[i] = 2 * tg::impl_ptr(x)->data<double>()[i];
  auto back = [](tg::BackwardCtx& c) {
    if (tg::TensorImpl* gx = c.grad_in(0))
      for (std::int64_t i = 0; i < gx->numel; ++i)
        gx->data<double>()[i] +=
            c.grad_out().data<double>()[i] * c.out().data<double>()[i] / c.in(0).data<double>()[i];
  };
  if constexpr (kMarked)
    return tg::record("doubled", std::move(y), {x}, tg::ReadsOutput{back});
  else
    return tg::record("doubled", std::move(y), {x}, back);
}
}  // namespace

TEST_CASE("autograd: only an op marked ReadsOutput keeps its output for backward") {
  tg::Tensor x = leaf_of({1.0, 4.0});
  tg::Tensor marked = doubled<true>(x);
  CHECK(tg::tape_stats().bytes == 2 * sizeof(double));
  marked.sum().backward();
  check_values(x.grad(), {2, 2});
  // Unmarked, the entry keeps no output: reading it is a logic error named by op, not a crash.
  tg::Tensor unmarked = doubled<false>(x);
  CHECK(tg::tape_stats().bytes == 0);
  CHECK_THROWS_WITH_AS(unmarked.sum().backward(),
                       doctest::Contains("backward of op 'doubled': reads its output"),
                       std::logic_error);
}
