// set_flush_denormal: subnormal floats read and written as 0 on the calling thread, on its
// team's threads (split elementwise loops and split products) and on threads started later.
#include <omp.h>

#include <future>
#include <limits>
#include <thread>

#include "../helpers.h"
#include "runtime/team.h"

// The modes are x86's (set_flush_denormal returns false elsewhere).
#if defined(__x86_64__)
#include <xmmintrin.h>

namespace {
// A cap of 2 with the team pinned to 2 while it lives; then the mode off and the thread
// settings as they were, however the test ends.
struct TeamOfTwo {
  int before = tg::get_num_threads();
  TeamOfTwo() {
    tg::set_num_threads(2);
    tg::detail::pin_team(2);
  }
  ~TeamOfTwo() {
    tg::set_flush_denormal(false);
    tg::detail::pin_team(0);
    tg::set_num_threads(before);
  }
};

// How many threads of a 2-thread region, on the calling thread's OpenMP pool (the one its
// kernels' regions run on), have flush-to-zero and denormals-are-zero set. The kernels hand
// their pieces to whichever thread is free, so only this reaches every thread for certain.
int threads_flushing() {
  int n = 0;
#pragma omp parallel num_threads(2) reduction(+ : n)
  n += (_mm_getcsr() & 0x8040u) == 0x8040u;
  return n;
}

// How many of t's elements are not 0.
std::int64_t nonzero(const tg::Tensor& t) {
  std::int64_t n = 0;
  for (const float x : t.to_vector<float>()) n += x != 0.0f;
  return n;
}
}  // namespace

TEST_CASE("set_flush_denormal: subnormals are 0 on this thread, its team and later threads") {
  const TeamOfTwo team;
  const float tiny = std::numeric_limits<float>::denorm_min() * 1000;  // 1.4e-42
  REQUIRE(std::fpclassify(tiny) == FP_SUBNORMAL);
  // 1 << 20 elements and a (512 x 512) product: both split over the team (one OpenBLAS call
  // per piece of the product).
  const tg::Tensor x = tg::full({1 << 20}, tiny);
  const tg::Tensor a = tg::full({512, 512}, tiny * 1000);  // 1.4e-39: subnormal
  const tg::Tensor b = tg::ones({512, 512});
  REQUIRE(nonzero(x * 3.0) == x.numel());  // off by default: IEEE 754's gradual underflow
  REQUIRE(nonzero(tg::matmul(a, b)) == 512 * 512);

  // A thread started before the call keeps its mode.
  std::promise<void> go;
  std::future<std::int64_t> before = std::async(std::launch::async, [&, ready = go.get_future()] {
    ready.wait();
    tg::NumThreadsGuard one(1);
    return nonzero(tg::full({64}, tiny) * 3.0);
  });
  // Lets that thread go however the test ends (a failed REQUIRE too): the future's destructor
  // waits for it.
  struct Go {
    std::promise<void>& p;
    bool sent = false;
    void send() {
      if (!sent) p.set_value();
      sent = true;
    }
    ~Go() { send(); }
  } let_go{go};

  REQUIRE(threads_flushing() == 0);
  CHECK(tg::set_flush_denormal(true));
  CHECK(threads_flushing() == 2);
  CHECK(nonzero(x * 3.0) == 0);
  CHECK(nonzero(tg::matmul(a, b)) == 0);
  CHECK(nonzero(tg::full({64}, tiny) * 3.0) == 0);
  let_go.send();
  CHECK(before.get() == 64);
  std::int64_t after = -1;
  std::thread([&] { after = nonzero(x * 3.0); }).join();
  CHECK(after == 0);

  CHECK(tg::set_flush_denormal(false));
  CHECK(threads_flushing() == 0);
  CHECK(nonzero(x * 3.0) == x.numel());
  CHECK(nonzero(tg::matmul(a, b)) == 512 * 512);
}

TEST_CASE("set_flush_denormal: refused inside split work, where it could not reach every thread") {
  {
    const tg::detail::ChunkScope piece;  // as a kernel's piece of split work runs
    CHECK_THROWS_WITH_AS(tg::set_flush_denormal(true), doctest::Contains("parallel region"),
                         tg::StateError);
  }
  CHECK(threads_flushing() == 0);
}
#endif
