// CPU availability from Linux: /proc/stat's busy ticks, the thread count a load leaves room
// for, the CPUs allowed, and the load sampler.
#include <unistd.h>

#include <optional>

#include "../helpers.h"
#include "runtime/cpu_load.h"

TEST_CASE("parallel: busy ticks sum every column but idle and iowait, over the given CPUs") {
  // user nice system idle iowait irq softirq steal guest guest_nice
  const std::string stat =
      "cpu  60 0 12 18 1 0 1 0 0 0\n"
      "cpu0 30 1 5 8 1 0 1 2 7 0\n"
      "cpu1 20 0 7 10 0 3 0 0 0 0\n"
      "cpu12 100 0 0 0 0 0 0 0 0 0\n"
      "intr 12345 6 7\n"
      "ctxt 999\n";
  CHECK(tg::detail::busy_ticks(stat, {0}) == 39u);  // guest (7) is inside user already
  CHECK(tg::detail::busy_ticks(stat, {1}) == 30u);
  CHECK(tg::detail::busy_ticks(stat, {0, 1}) == 69u);
  CHECK(tg::detail::busy_ticks(stat, {1, 12}) == 130u);  // cpu12 is not cpu1
  CHECK_FALSE(tg::detail::busy_ticks(stat, {3}).has_value());
  CHECK_FALSE(tg::detail::busy_ticks("", {0}).has_value());
  CHECK(tg::detail::busy_ticks("cpu0\n", {0}) == 0u);  // a line without columns counts 0
}

TEST_CASE("parallel: a thread beyond the first needs most of a free core") {
  using tg::detail::threads_for_load;
  CHECK(threads_for_load(2, 2, 0.0) == 2);
  CHECK(threads_for_load(2, 2, 0.2) == 2);
  CHECK(threads_for_load(2, 2, 0.4) == 1);  // a core 60% free would hold every op back
  CHECK(threads_for_load(2, 2, 1.0) == 1);  // one busy process beside us
  CHECK(threads_for_load(2, 2, 3.0) == 1);  // never fewer than one
  CHECK(threads_for_load(8, 8, 2.0) == 6);
  CHECK(threads_for_load(4, 8, 0.0) == 4);   // never more than the cap
  CHECK(threads_for_load(2, 2, -0.5) == 2);  // tick rounding can make it negative
}

TEST_CASE("parallel: the CPUs allowed are at least one and at most the machine's") {
  const int n = tg::detail::allowed_cpus();
  CHECK(n >= 1);
  CHECK(n <= static_cast<int>(sysconf(_SC_NPROCESSORS_CONF)));
}

TEST_CASE("parallel: the load sampler waits for its window, then reports a non-negative load") {
  tg::detail::OthersLoad load;
  CHECK_FALSE(load.sample(std::int64_t{1} << 62).has_value());  // the window has not passed
  const std::optional<double> others = load.sample(0);
  REQUIRE(others.has_value());  // Linux: /proc/stat is readable
  CHECK(*others >= 0.0);
}
