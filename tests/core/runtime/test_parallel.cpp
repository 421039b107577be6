// Thread control: work is divided by the thread cap alone, so a result has the same bits
// whether its pieces ran on a team or one after another (the team follows the machine's load).
#include <thread>

#include "../helpers.h"
#include "runtime/team.h"

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

// A layer norm's input, weight and bias gradients over 512 rows of 256, big enough to split.
std::vector<float> layer_norm_step() {
  nn::LayerNorm norm(tg::Shape{256});
  tg::Generator gen(7);
  {
    tg::NoGradGuard no_grad;
    for (const tg::Tensor& p : norm.parameters()) p.copy_(tg::randn(p.shape(), {}, &gen));
  }
  const tg::Tensor x = tg::randn({512, 256}, {.requires_grad = true}, &gen);
  const tg::Tensor g = tg::randn({512, 256}, {}, &gen);
  norm(x).backward(g);
  std::vector<float> out = x.grad().to_vector<float>();
  for (const tg::Tensor& p : norm.parameters()) {
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

TEST_CASE("parallel: layer norm's gradients are the same bits split or not") {
  // Rows split for the input's gradient, positions for the weight's and bias's: each sum runs
  // in one order whatever the split, so even a cap of 1 gives the same bits.
  const std::vector<float> two = with_team(2, layer_norm_step), one = with_team(1, layer_norm_step);
  CHECK(one == two);
  const int before = tg::get_num_threads();
  tg::set_num_threads(1);
  const std::vector<float> unsplit = layer_norm_step();
  tg::set_num_threads(before);
  CHECK(unsplit == two);
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

TEST_CASE("parallel: a NumThreadsGuard sets its own thread's count, nests, and restores it") {
  const int before = tg::get_num_threads();
  tg::set_num_threads(2);
  {
    const tg::NumThreadsGuard one(1);
    CHECK(tg::get_num_threads() == 1);
    CHECK(tg::active_num_threads() == 1);
    {
      const tg::NumThreadsGuard three(3);
      CHECK(tg::get_num_threads() == 3);
    }
    CHECK(tg::get_num_threads() == 1);
    int other = 0;  // another thread still sees the process's count
    std::thread([&] { other = tg::get_num_threads(); }).join();
    CHECK(other == 2);
  }
  CHECK(tg::get_num_threads() == 2);
  tg::set_num_threads(before);
  CHECK_THROWS_WITH_AS(tg::NumThreadsGuard(0), "NumThreadsGuard: need at least 1 thread, got 0",
                       tg::ValueError);
}

TEST_CASE("parallel: an MLP trained under NumThreadsGuard(1) has set_num_threads(1)'s bits") {
  const int before = tg::get_num_threads();
  tg::set_num_threads(1);
  const std::vector<float> process = train_mlp();
  tg::set_num_threads(2);
  std::vector<float> guarded;
  std::thread([&] {
    const tg::NumThreadsGuard one(1);
    guarded = train_mlp();
  }).join();
  tg::set_num_threads(before);
  CHECK(guarded == process);
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
