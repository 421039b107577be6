// Thread control: work is divided by the thread cap alone, so a result has the same bits
// whether its pieces ran on a team or one after another (the team follows the machine's load).
#include "cpu_load.h"
#include "helpers.h"
#include "team.h"

namespace nn = tg::nn;

namespace {
// Runs f with the cap at 2 and the team pinned to `team` threads, then restores both.
template <typename F>
auto with_team(int team, F f) {
  const int before = tg::get_num_threads();
  tg::set_num_threads(2);
  tg::detail::pin_team(team);
  auto result = f();
  tg::detail::pin_team(0);
  tg::set_num_threads(before);
  return result;
}

// Twenty Adam steps of an MLP whose products, elementwise loops and softmax rows are big enough
// to be split; the parameters afterwards.
std::vector<float> train_mlp() {
  tg::manual_seed(3);
  nn::Sequential model(nn::Linear(784, 300), nn::ReLU(), nn::Linear(300, 300), nn::Tanh(),
                       nn::Linear(300, 10));
  tg::optim::Adam opt(model.parameters(), {.lr = 1e-3});
  tg::Generator gen(5);
  for (int s = 0; s < 20; ++s) {
    const tg::Tensor x = tg::randn({250, 784}, {}, &gen);
    const tg::Tensor y = tg::randint(0, 10, {250}, {.dtype = tg::kInt64}, &gen);
    const tg::Tensor loss = nn::functional::cross_entropy(model(x), y);
    opt.zero_grad();
    loss.backward();
    opt.step();
  }
  std::vector<float> out;
  for (const tg::Tensor& p : model.parameters()) {
    const std::vector<float> v = p.to_vector<float>();
    out.insert(out.end(), v.begin(), v.end());
  }
  return out;
}

// A CNN step's input gradient and weight gradients, batch 64 (whole blocks per thread).
std::vector<float> conv_step() {
  tg::manual_seed(4);
  nn::Sequential model(nn::Unflatten(1, {1, 28, 28}), nn::Conv2d(1, 10, 5), nn::ReLU(),
                       nn::Conv2d(10, 20, 5), nn::Flatten());
  tg::Generator gen(6);
  const tg::Tensor x = tg::randn({64, 784}, {.requires_grad = true}, &gen);
  const tg::Tensor y = model(x);
  (y * y).sum().backward();
  std::vector<float> out = x.grad().to_vector<float>();
  for (const tg::Tensor& p : model.parameters()) {
    const std::vector<float> v = p.grad().to_vector<float>();
    out.insert(out.end(), v.begin(), v.end());
  }
  return out;
}
}  // namespace

TEST_CASE("parallel: an MLP trains to the same bits on a team of 2 and of 1 under a cap of 2") {
  const std::vector<float> two = with_team(2, train_mlp), one = with_team(1, train_mlp);
  CHECK(one == two);
}

TEST_CASE("parallel: convolution gradients are the same bits on a team of 2 and of 1") {
  const std::vector<float> two = with_team(2, conv_step), one = with_team(1, conv_step);
  CHECK(one == two);
}

TEST_CASE("parallel: the cap bounds the team and set_num_threads checks its argument") {
  const int before = tg::get_num_threads();
  tg::set_num_threads(1);
  CHECK(tg::get_num_threads() == 1);
  CHECK(tg::active_num_threads() == 1);
  tg::set_num_threads(2);
  tg::detail::pin_team(5);
  CHECK(tg::active_num_threads() == 2);
  tg::detail::pin_team(0);
  CHECK(tg::active_num_threads() >= 1);
  CHECK(tg::active_num_threads() <= 2);
  tg::set_num_threads(before);
  CHECK(tg::get_num_threads() == before);
  CHECK_THROWS_WITH_AS(tg::set_num_threads(0), "set_num_threads: need at least 1 thread, got 0",
                       tg::ValueError);
}

TEST_CASE("parallel: adaptation can be switched off and on") {
  CHECK(tg::thread_adaptation());
  const int before = tg::get_num_threads();
  tg::set_num_threads(2);
  tg::set_thread_adaptation(false);
  CHECK_FALSE(tg::thread_adaptation());
  CHECK(tg::active_num_threads() == 2);  // fixed: the cap, whatever the load
  tg::set_thread_adaptation(true);
  CHECK(tg::thread_adaptation());
  tg::set_num_threads(before);
}

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
