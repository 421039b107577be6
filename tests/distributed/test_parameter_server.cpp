// The parameter server. On 2 ranks (one worker): at staleness 0 it is plain training, bit for
// bit, BatchNorm's buffers included. On 3 ranks (two workers running at once): every pushed
// gradient is applied exactly once, and a replay of the server's log (each gradient recomputed
// on the version its worker pulled, applied in the logged order) ends on the server's parameters
// bit for bit; a staleness bound holds with one worker slowed, and binds where the unbounded
// run goes past it. Run by ctest as `-n 2 -tc="parameter server: one worker*"` and `-n 3
// -tc="parameter server: two workers*"`; the remaining cases run in both.
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include "helpers.h"

namespace {
using Opt = std::unique_ptr<tg::optim::Optimizer>;

std::shared_ptr<nn::Sequential> make_bn_net(std::uint64_t seed) {
  tg::Generator gen(seed);
  auto m = std::make_shared<nn::Sequential>(nn::Linear(5, 16, true, &gen), nn::BatchNorm1d(16),
                                            nn::Tanh(), nn::Linear(16, 3, true, &gen));
  m->to(tg::kFloat64);
  return m;
}

// Worker `index` of `workers`: its shard of the data, shuffled per epoch.
data::DataLoader worker_loader(const data::TensorDataset& ds, int workers, int index) {
  return data::DataLoader(ds, {.batch_size = 4,
                               .shuffle = true,
                               .seed = 8,
                               .num_replicas = workers,
                               .rank = index,
                               .check_replicas = false});
}

// The one worker's three epochs, as a script writes them in one process.
std::shared_ptr<nn::Sequential> plain_run(const data::TensorDataset& ds, const char* optimizer) {
  auto plain = make_bn_net(3);
  Opt opt = tg::optim::make(optimizer, plain->named_parameters(), {.lr = 0.05});
  data::DataLoader loader = worker_loader(ds, 1, 0);
  for (int e = 0; e < 3; ++e)
    for (auto& [x, y] : loader) {
      opt->zero_grad();
      nn::functional::cross_entropy((*plain)(x), y).backward();
      opt->step();
    }
  return plain;
}

// A worker's whole run: pull, gradient, push, for `epochs` or until the server says stop, then
// finish; `pause` between the pull and the push (a slow worker).
void work(dist::ParameterServer& ps, nn::Module& net, const data::TensorDataset& ds, int epochs,
          std::chrono::microseconds pause = {}) {
  data::DataLoader loader = worker_loader(ds, ps.num_workers(), ps.worker_index());
  for (int e = 0; e < epochs; ++e)
    for (auto& [x, y] : loader) {
      if (ps.pull() < 0) {
        ps.finish();
        return;
      }
      net.zero_grad();
      tg::Tensor loss = nn::functional::cross_entropy(net(x), y);
      loss.backward();
      if (pause.count() > 0) std::this_thread::sleep_for(pause);
      ps.push(loss.item(), x.size(0));
    }
  ps.finish();
}
}  // namespace

TEST_CASE("parameter server: one worker at staleness 0 is plain training, bit for bit") {
  REQUIRE(dist::world_size() == 2);
  const data::TensorDataset ds = global_data(tg::kFloat64);
  for (const char* name : {"momentum", "adam"}) {
    CAPTURE(name);
    // Rank 1 starts from other weights: the constructor gives it rank 0's.
    auto net = make_bn_net(dist::rank() == 0 ? 3 : 77);
    dist::ParameterServer ps(*net, {.max_staleness = 0});
    if (ps.is_server()) {
      Opt opt = tg::optim::make(name, net->named_parameters(), {.lr = 0.05});
      const dist::ServerStats s = ps.serve(*opt);
      CHECK(s.updates == 48);
      CHECK(s.worker_steps == std::vector<std::int64_t>{0, 48});
      CHECK(s.samples == 192);
      CHECK(s.max_staleness == 0);
      CHECK(state_values(*net) == state_values(*plain_run(ds, name)));
    } else {
      work(ps, *net, ds, 3);
    }
  }
}

TEST_CASE("parameter server: one worker: the server's Checkpointer resumes it, bit for bit") {
  REQUIRE(dist::world_size() == 2);
  const data::TensorDataset ds = global_data(tg::kFloat64);
  const std::string dir =
      (std::filesystem::temp_directory_path() / ("tapegrad-ps-" + std::to_string(::getpid())))
          .string();
  auto momentum = [](nn::Module& m) {
    return tg::optim::make("momentum", m.named_parameters(), {.lr = 0.05});
  };
  // The uninterrupted run: 3 epochs of 16 batches in one process.
  const auto plain = plain_run(ds, "momentum");
  // Interrupted: a budget of 100 samples ends the first job after 25 updates; the server saved
  // at 8, 16 and 24.
  {
    auto net = make_bn_net(3);
    dist::ParameterServer ps(*net, {.max_samples = 100});
    if (ps.is_server()) {
      Opt opt = momentum(*net);
      tg::train::Checkpointer ckpt(*net, *opt, nullptr,
                                   {.dir = dir, .every_epochs = 0, .every_steps = 8});
      const dist::ServerStats s =
          ps.serve(*opt, [&](const dist::ServerUpdate& u) { ckpt.on_step({.step = u.version}); });
      CHECK(s.updates == 25);
      CHECK(ckpt.checkpoints().size() == 3);
    } else {
      work(ps, *net, ds, 3);
    }
  }
  // Resumed: a new job from other weights; the server resumes at step 24, the worker continues
  // its order there (epoch 1, batch 8) to the end of epoch 3.
  auto net = make_bn_net(99);
  Opt opt = momentum(*net);
  std::int64_t step = 0;
  if (dist::rank() == 0) {
    tg::train::Checkpointer ckpt(*net, *opt, nullptr, {.dir = dir, .verbose = false});
    const std::optional<tg::train::Progress> p = ckpt.resume();
    CHECK(p.has_value());
    step = p ? p->step : 0;
  }
  tg::Tensor shared = tg::scalar_tensor(static_cast<double>(step), {.dtype = tg::kInt64});
  dist::broadcast(shared, 0);
  step = static_cast<std::int64_t>(shared.item());
  CHECK(step == 24);
  dist::ParameterServer ps(*net);
  if (ps.is_server()) {
    ps.set_version(step);
    const dist::ServerStats s = ps.serve(*opt);
    CHECK(s.updates == 24);
    CHECK(ps.version() == 48);
    CHECK(state_values(*net) == state_values(*plain));
    std::filesystem::remove_all(dir);
  } else {
    data::DataLoader loader = worker_loader(ds, 1, 0);
    loader.set_epoch(step / loader.num_batches(), step % loader.num_batches());
    for (std::int64_t e = step / loader.num_batches(); e < 3; ++e)
      for (auto& [x, y] : loader) {
        ps.pull();
        net->zero_grad();
        tg::Tensor loss = nn::functional::cross_entropy((*net)(x), y);
        loss.backward();
        ps.push(loss.item(), x.size(0));
      }
    ps.finish();
    CHECK_THROWS_WITH_AS(ps.set_version(1),
                         "ParameterServer: set_version() is rank 0's; this is rank 1",
                         tg::StateError);
  }
}

TEST_CASE("parameter server: two workers: each gradient applied once, as the log replays") {
  REQUIRE(dist::world_size() == 3);
  const data::TensorDataset ds = global_data(tg::kFloat64);
  for (std::int64_t bound : {-1, 0, 2}) {
    CAPTURE(bound);
    auto net = make_net(4, tg::kFloat64);
    dist::ParameterServer ps(*net, {.max_staleness = bound});
    if (!ps.is_server()) {
      work(ps, *net, ds, 2);
      continue;
    }
    Opt opt = tg::optim::make("momentum", net->named_parameters(), {.lr = 0.05});
    std::vector<std::vector<tg::Tensor>> versions{{}};  // each version's parameters
    for (const tg::Tensor& p : net->parameters()) versions[0].push_back(p.clone());
    std::vector<dist::ServerUpdate> log;
    const dist::ServerStats s = ps.serve(*opt, [&](const dist::ServerUpdate& u) {
      log.push_back(u);
      versions.emplace_back();
      for (const tg::Tensor& p : net->parameters()) versions.back().push_back(p.clone());
    });
    // 64 samples, 32 a worker, 8 batches an epoch: 16 pushes each, each applied once.
    CHECK(s.updates == 32);
    CHECK(s.worker_steps == std::vector<std::int64_t>{0, 16, 16});
    std::set<std::pair<int, std::int64_t>> seen;
    for (const dist::ServerUpdate& u : log) seen.insert({u.worker, u.worker_step});
    CHECK(seen.size() == 32);
    CHECK(*seen.begin() == std::pair<int, std::int64_t>{1, 1});
    CHECK(*seen.rbegin() == std::pair<int, std::int64_t>{2, 16});
    if (bound >= 0) CHECK(s.max_staleness <= bound);

    // The replay: each worker's batches rebuilt from its loader, each gradient recomputed on the
    // version its worker pulled, the updates applied in the logged order.
    std::map<int, std::vector<data::Batch>> batches;
    for (int w = 1; w <= 2; ++w) {
      data::DataLoader loader = worker_loader(ds, 2, w - 1);
      for (int e = 0; e < 2; ++e)
        for (auto& [x, y] : loader) batches[w].push_back({x.clone(), y.clone()});
    }
    auto replay = make_net(4, tg::kFloat64), probe = make_net(4, tg::kFloat64);
    Opt ropt = tg::optim::make("momentum", replay->named_parameters(), {.lr = 0.05});
    bool versions_match = true;
    for (std::size_t k = 0; k < log.size(); ++k) {
      const dist::ServerUpdate& u = log[k];
      const auto pulled = static_cast<std::size_t>(u.version - 1 - u.staleness);
      const std::vector<tg::Tensor> probe_params = probe->parameters();
      for (std::size_t i = 0; i < probe_params.size(); ++i)
        probe_params[i].set_data(versions[pulled][i].clone());
      probe->zero_grad();
      const data::Batch& b = batches[u.worker][static_cast<std::size_t>(u.worker_step - 1)];
      nn::functional::cross_entropy((*probe)(b.first), b.second).backward();
      const std::vector<tg::Tensor> rp = replay->parameters();
      for (std::size_t i = 0; i < rp.size(); ++i) rp[i].set_grad(probe_params[i].grad().clone());
      ropt->step();
      for (std::size_t i = 0; i < rp.size(); ++i)
        versions_match &= rp[i].to_vector<double>() == versions[k + 1][i].to_vector<double>();
    }
    CHECK(versions_match);
    CHECK(flat(*replay) == flat(*net));
  }
}

TEST_CASE("parameter server: two workers: a slowed worker's staleness is bounded when asked") {
  REQUIRE(dist::world_size() == 3);
  const data::TensorDataset ds = global_data(tg::kFloat64);
  std::map<std::int64_t, dist::ServerStats> runs;
  for (std::int64_t bound : {-1, 1}) {
    auto net = make_net(4, tg::kFloat64);
    dist::ParameterServer ps(*net, {.max_staleness = bound});
    if (ps.is_server()) {
      Opt opt = tg::optim::make("sgd", net->named_parameters(), {.lr = 0.05});
      std::int64_t worst = 0;
      runs[bound] = ps.serve(
          *opt, [&](const dist::ServerUpdate& u) { worst = std::max(worst, u.staleness); });
      CHECK(worst == runs[bound].max_staleness);
    } else {
      // Rank 2 sleeps 5 ms inside each step; rank 1 takes well under a millisecond.
      work(ps, *net, ds, 2, std::chrono::microseconds(dist::rank() == 2 ? 5000 : 0));
    }
  }
  if (dist::rank() == 0) {
    CHECK(runs[1].max_staleness <= 1);
    CHECK(runs[1].held_pulls > 0);
    CHECK(runs[-1].max_staleness > 1);  // the bound is what kept it at 1
    CHECK(runs[-1].held_pulls == 0);
  }
}

TEST_CASE("parameter server: two workers: a sample budget, the faster worker taking more") {
  REQUIRE(dist::world_size() == 3);
  const data::TensorDataset ds = global_data(tg::kFloat64);
  auto net = make_net(4, tg::kFloat64);
  dist::ParameterServer ps(*net, {.max_samples = 200});
  if (ps.is_server()) {
    Opt opt = tg::optim::make("sgd", net->named_parameters(), {.lr = 0.05});
    const dist::ServerStats s = ps.serve(*opt);
    CHECK(s.samples >= 200);
    CHECK(s.samples <= 204);  // the other worker's push under way, at most
    CHECK(s.worker_steps[1] > 2 * s.worker_steps[2]);
  } else {
    // Many epochs: the budget ends the run. Rank 2 sleeps 3 ms a step.
    work(ps, *net, ds, 1000, std::chrono::microseconds(dist::rank() == 2 ? 3000 : 0));
    CHECK_THROWS_WITH_AS(ps.pull(), "ParameterServer: pull() after finish()", tg::StateError);
  }
}

TEST_CASE("parameter server: misuse is refused by name") {
  auto net = make_net(4, tg::kFloat64);
  CHECK_THROWS_WITH_AS(dist::ParameterServer(*net, {.max_samples = -1}),
                       "ParameterServer: max_samples must be >= 0 (0: no budget), got -1",
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(dist::ParameterServer(*net, {.max_staleness = -2}),
                       "ParameterServer: max_staleness must be >= 0 or -1 (no bound), got -2",
                       tg::ValueError);
  // Models that differ: every rank throws, naming the first difference.
  auto other = dist::rank() == 0 ? make_net(4, tg::kFloat64) : make_bn_net(4);
  CHECK_THROWS_AS(dist::ParameterServer{*other}, tg::ValueError);
  dist::ParameterServer ps(*net);
  if (ps.is_server()) {
    CHECK_THROWS_WITH_AS(ps.pull(), "ParameterServer: pull() is a worker's, not the server's",
                         tg::StateError);
    CHECK_THROWS_WITH_AS(ps.push(0, 1), "ParameterServer: push() is a worker's, not the server's",
                         tg::StateError);
    Opt opt = tg::optim::make("sgd", net->named_parameters(), {.lr = 0.05});
    const dist::ServerStats s = ps.serve(*opt);
    CHECK(s.updates == 0);
  } else {
    Opt opt = tg::optim::make("sgd", net->named_parameters(), {.lr = 0.05});
    const std::string not_server =
        "ParameterServer: serve() is rank 0's; this is rank " + std::to_string(dist::rank());
    CHECK_THROWS_WITH_AS(ps.serve(*opt), not_server.c_str(), tg::StateError);
    CHECK_THROWS_WITH_AS(ps.push(0, 1),
                         "ParameterServer: push() needs a pull() first: a gradient is computed "
                         "on the values the last pull gave",
                         tg::StateError);
    // A pull writes the parameters in place: a graph recorded before it is refused, as after
    // any in-place update, instead of differentiating with the pulled values.
    tg::Tensor loss = (*net)(tg::ones({2, 5}, {.dtype = tg::kFloat64})).sum();
    CHECK(ps.pull() == 0);
    CHECK_THROWS_WITH_AS(loss.backward(), doctest::Contains("was modified in place"),
                         tg::StateError);
    ps.finish();
    CHECK_THROWS_WITH_AS(ps.finish(), "ParameterServer: finish() called twice", tg::StateError);
    CHECK_THROWS_WITH_AS(ps.pull(), "ParameterServer: pull() after finish()", tg::StateError);
  }
}
