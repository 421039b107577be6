// Random tensors: manual_seed's reproducibility, randn's moments, and generators shared by
// threads.
#include <algorithm>
#include <cmath>
#include <sstream>
#include <thread>

#include "../helpers.h"

TEST_CASE("tensor: manual_seed makes random draws reproducible") {
  tg::manual_seed(42);
  auto a = tg::randn({5}).to_vector<float>();
  auto u = tg::rand({5}).to_vector<float>();
  tg::manual_seed(42);
  CHECK(tg::randn({5}).to_vector<float>() == a);
  CHECK(tg::rand({5}).to_vector<float>() == u);
  for (float v : u) CHECK((v >= 0 && v < 1));
  auto p = tg::randperm(10).to_vector<std::int64_t>();
  std::sort(p.begin(), p.end());
  for (int i = 0; i < 10; ++i) CHECK(p[i] == i);
  for (auto v : tg::randint(2, 5, {50}).to_vector<std::int64_t>()) CHECK((v >= 2 && v < 5));
}

TEST_CASE("tensor: randn has mean 0 and standard deviation 1") {
  tg::Generator gen(3);
  tg::Tensor x = tg::randn({20000}, {.dtype = tg::kFloat64}, &gen);
  const double m = x.mean().item();
  const double sd = std::sqrt(((x - m) * (x - m)).mean().item());
  CHECK(std::abs(m) < 0.03);
  CHECK(std::abs(sd - 1) < 0.03);
}

TEST_CASE("Generator: two threads drawing from the default generator each get a whole run") {
  // A locked generator hands each tensor one contiguous run of its stream, so the two tensors
  // are the first and the second run of a single-threaded draw, in one order or the other.
  // Unlocked, the threads interleave and race on the engine's state (ThreadSanitizer reports
  // it; here the runs come out mixed).
  constexpr std::int64_t kN = 200000;
  tg::manual_seed(11);
  const auto first = tg::randn({kN}, {.dtype = tg::kFloat64}).to_vector<double>();
  const auto second = tg::randn({kN}, {.dtype = tg::kFloat64}).to_vector<double>();
  tg::manual_seed(11);
  std::vector<double> a, b;
  std::thread ta([&] { a = tg::randn({kN}, {.dtype = tg::kFloat64}).to_vector<double>(); });
  std::thread tb([&] { b = tg::randn({kN}, {.dtype = tg::kFloat64}).to_vector<double>(); });
  ta.join();
  tb.join();
  CHECK(((a == first && b == second) || (a == second && b == first)));
}

TEST_CASE("Generator: a copy continues from the same state, and threads may seed and draw") {
  tg::Generator g(5);
  g.uniform();
  tg::Generator copy(g);
  CHECK(copy.uniform() == g.uniform());
  tg::Generator assigned(1);
  assigned = g;
  CHECK(assigned.next() == g.next());
  // Seeding, state and draws from several threads at once are each whole operations.
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        if (t == 0) g.seed(static_cast<std::uint64_t>(i));
        (void)g.normal();
        (void)g.randint(0, 10);
        if (t == 1) g.set_state(g.state());
      }
    });
  for (auto& th : threads) th.join();
  CHECK_NOTHROW(g.set_state(g.state()));
}

namespace {
// How often each category appears among the draws.
std::vector<double> frequencies(const std::vector<std::int64_t>& draws, std::size_t n) {
  std::vector<double> f(n, 0);
  for (std::int64_t d : draws) f.at(static_cast<std::size_t>(d)) += 1.0 / draws.size();
  return f;
}
}  // namespace

TEST_CASE("multinomial: with replacement, categories come as often as their weights say") {
  tg::Generator gen(17);
  constexpr int kDraws = 200000;
  const tg::Tensor w = tg::tensor({1, 0, 3, 6});  // unnormalised: probabilities .1 0 .3 .6
  const tg::Tensor d = tg::multinomial(w, kDraws, true, &gen);
  CHECK(d.dtype() == tg::kInt64);
  CHECK(d.shape() == tg::Shape{kDraws});
  const std::vector<double> f = frequencies(d.to_vector<std::int64_t>(), 4);
  // Four standard deviations of a frequency near 0.5 over 200k draws is 0.0045.
  CHECK(std::abs(f[0] - 0.1) < 0.0045);
  CHECK(f[1] == 0);  // a zero weight is never drawn
  CHECK(std::abs(f[2] - 0.3) < 0.0045);
  CHECK(std::abs(f[3] - 0.6) < 0.0045);
  // The same seed gives the same draws.
  tg::Generator again(17);
  CHECK(tg::multinomial(w, kDraws, true, &again).to_vector<std::int64_t>() ==
        d.to_vector<std::int64_t>());
}

TEST_CASE("multinomial: without replacement, draws are distinct and in draw order") {
  tg::Generator gen(23);
  // Rows of a 2-D input are separate distributions.
  const tg::Tensor w = tg::tensor({1, 2, 3, 0, 0, 5, 0, 1}, {2, 4}, {.dtype = tg::kFloat64});
  constexpr int kRuns = 40000;
  std::vector<std::int64_t> first, second;
  int bad = 0;  // runs whose draws repeat, or take a zero weight, or miss row 1's pair
  for (int r = 0; r < kRuns; ++r) {
    const std::vector<std::int64_t> d =
        tg::multinomial(w, 2, false, &gen).to_vector<std::int64_t>();
    REQUIRE(d.size() == 4);
    bad += d[0] == d[1] || d[0] == 3 || d[1] == 3 ||
           !((d[2] == 1 && d[3] == 3) || (d[2] == 3 && d[3] == 1));
    first.push_back(d[0]);
    second.push_back(d[1]);
  }
  CHECK(bad == 0);
  // Row 0, weights 1 2 3: the first draw is 0 with probability 1/6; the second, after one of
  // the others is gone, with 2/6 * 1/4 + 3/6 * 1/3 = 1/4.
  const std::vector<double> f1 = frequencies(first, 4), f2 = frequencies(second, 4);
  CHECK(std::abs(f1[0] - 1.0 / 6) < 0.008);
  CHECK(std::abs(f1[2] - 3.0 / 6) < 0.01);
  CHECK(std::abs(f2[0] - 0.25) < 0.009);
  // All of a row's categories with weight: a permutation of them.
  std::vector<std::int64_t> all =
      tg::multinomial(tg::tensor({4, 1, 2}), 3, false, &gen).to_vector<std::int64_t>();
  std::sort(all.begin(), all.end());
  CHECK(all == std::vector<std::int64_t>{0, 1, 2});
}

TEST_CASE("multinomial: bad weights and counts are named") {
  auto fails = [](const tg::Tensor& w, std::int64_t k, bool repl, const char* what) {
    CAPTURE(what);
    CHECK_THROWS_WITH_AS(tg::multinomial(w, k, repl), doctest::Contains(what), tg::Error);
  };
  fails(tg::tensor({1, -0.5}), 1, true, "row 0, category 1 is -0.5");
  fails(tg::tensor({1, NAN}), 1, true, "finite and non-negative");
  fails(tg::tensor({1, 2, INFINITY, 0}, {2, 2}), 1, true, "row 1, category 0 is inf");
  fails(tg::tensor({1, 2, 0, 0}, {2, 2}), 1, true, "row 1's weights sum to 0");
  fails(tg::zeros({2, 2, 2}), 1, true, "1-D or 2-D, got shape [2, 2, 2]");
  fails(tg::tensor({1, 2}, {}, {.dtype = tg::kInt64}), 1, true, "floating");
  fails(tg::tensor({1, 2}), 0, true, "num_samples must be positive, got 0");
  fails(tg::tensor({1, 0, 2}), 3, false,
        "cannot draw 3 distinct samples without replacement "
        "from row 0, which has 2 categories of non-zero weight");
  fails(tg::zeros({0}), 1, true, "no categories");
}
