// LocalSGD on two ranks: averaging after every step equals DistributedDataParallel (float64 to
// 1e-12 relative, with and without momentum); average_optimizer_state makes the momentum buffers
// agree; a period of 4 equals four local steps on each rank's own batches, then the mean,
// computed here by hand for both ranks; a run resumed from rank 0's checkpoint after an averaging
// is the uninterrupted one; errors name what is wrong.
#include <unistd.h>

#include <filesystem>

#include "helpers.h"

namespace {
using Opt = std::unique_ptr<tg::optim::Optimizer>;

Opt make_sgd(const std::vector<tg::Tensor>& p, double momentum) {
  return std::make_unique<tg::optim::SGD>(p,
                                          tg::optim::SGDOptions{.lr = 0.1, .momentum = momentum});
}

// This rank's half of every global batch of 16 (rank r of 2), as the DDP tests shard.
data::DataLoader shard(const data::TensorDataset& ds, int r) {
  return data::DataLoader(
      ds, {.batch_size = 8, .shuffle = true, .seed = 5, .num_replicas = 2, .rank = r});
}

// What a run ends with: the parameters, the optimizer's buffers (momentum) and the averagings.
struct Run {
  std::vector<double> params, momentum;
  std::int64_t averagings = 0;
};
Run ended(const nn::Module& net, const tg::optim::Optimizer& opt, std::int64_t averagings) {
  Run r{flat(net), {}, averagings};
  for (std::size_t i = 0; i < opt.num_params(); ++i)
    for (const tg::Tensor& b : opt.state(i).buffers)
      if (b.defined())
        for (double v : b.to_vector<double>()) r.momentum.push_back(v);
  return r;
}

// 2 epochs (8 steps) of DistributedDataParallel.
Run ddp_run(double momentum) {
  const data::TensorDataset ds = global_data(tg::kFloat64);
  data::DataLoader loader = shard(ds, dist::rank());
  dist::DistributedDataParallel ddp(make_net(1, tg::kFloat64));
  Opt opt = make_sgd(ddp.parameters(), momentum);
  for (int e = 0; e < 2; ++e)
    for (auto& [x, y] : loader) {
      tg::Tensor loss = nn::functional::cross_entropy(ddp(x), y);
      opt->zero_grad();
      loss.backward();
      opt->step();
    }
  return ended(ddp.module(), *opt, 0);
}

// The same 8 steps with LocalSGD.
Run local_run(double momentum, dist::LocalSGDOptions o) {
  const data::TensorDataset ds = global_data(tg::kFloat64);
  data::DataLoader loader = shard(ds, dist::rank());
  // Rank 1 starts from other weights: the constructor's broadcast must replace them.
  auto net = make_net(dist::rank() == 0 ? 1 : 99, tg::kFloat64);
  Opt opt = make_sgd(net->parameters(), momentum);
  dist::LocalSGD local(*net, *opt, o);
  for (int e = 0; e < 2; ++e)
    for (auto& [x, y] : loader) {
      tg::Tensor loss = nn::functional::cross_entropy((*net)(x), y);
      opt->zero_grad();
      loss.backward();
      opt->step();
      local.step();
    }
  CHECK(local.steps() == 8);
  return ended(*net, *opt, local.averagings());
}

// Whether every rank holds these values.
bool same_on_every_rank(const std::vector<double>& v) {
  tg::Tensor mine = tg::from_vector(v, {static_cast<std::int64_t>(v.size())});
  tg::Tensor other = mine.clone();
  dist::broadcast(other, 0);
  const tg::Tensor differs = tg::scalar_tensor(
      mine.to_vector<double>() == other.to_vector<double>() ? 0 : 1, {.dtype = tg::kInt64});
  dist::all_reduce(differs, dist::ReduceOp::Max);
  return differs.item() == 0;
}
}  // namespace

// The largest relative difference, or 1 when the sizes differ (or there is nothing).
double differs(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() != b.size() || a.empty() ? 1 : relative_error(a, b, true);
}

TEST_CASE("LocalSGD: averaging after every step is DistributedDataParallel's step") {
  const Run sgd = local_run(0, {.period = 1});
  CHECK(sgd.averagings == 8);
  CHECK(differs(sgd.params, ddp_run(0).params) <= 1e-12);
  CHECK(same_on_every_rank(sgd.params));
  // Momentum is linear in the gradients: the mean of the ranks' buffers moves as DDP's buffer
  // does, so the parameters match either way; the buffers themselves are DDP's only when they
  // are averaged too.
  const Run ddp = ddp_run(0.9);
  const Run apart = local_run(0.9, {.period = 1});
  CHECK(differs(apart.params, ddp.params) <= 1e-12);
  CHECK_FALSE(same_on_every_rank(apart.momentum));
  const Run shared = local_run(0.9, {.period = 1, .average_optimizer_state = true});
  CHECK(differs(shared.params, ddp.params) <= 1e-12);
  CHECK(differs(shared.momentum, ddp.momentum) <= 1e-12);
}

TEST_CASE("LocalSGD: a period of 4 is four local steps on each rank, then the mean") {
  const Run run = local_run(0, {.period = 4});
  CHECK(run.averagings == 2);
  CHECK(same_on_every_rank(run.params));
  // By hand, for both ranks on this one: SGD on each rank's own batches, no communication,
  // the elementwise mean after steps 4 and 8.
  const data::TensorDataset ds = global_data(tg::kFloat64);
  std::vector<std::shared_ptr<nn::Sequential>> nets{make_net(1, tg::kFloat64),
                                                    make_net(1, tg::kFloat64)};
  std::vector<data::DataLoader> loaders{shard(ds, 0), shard(ds, 1)};
  std::vector<Opt> opts;
  for (auto& n : nets) opts.push_back(make_sgd(n->parameters(), 0));
  for (int e = 0; e < 2; ++e) {
    std::vector<std::vector<std::pair<tg::Tensor, tg::Tensor>>> batches(2);
    for (int r = 0; r < 2; ++r)
      for (auto& [x, y] : loaders[static_cast<std::size_t>(r)])
        batches[static_cast<std::size_t>(r)].emplace_back(x, y);
    for (int r = 0; r < 2; ++r) {
      const auto ur = static_cast<std::size_t>(r);
      for (const auto& xy : batches[ur]) {
        tg::Tensor loss = nn::functional::cross_entropy((*nets[ur])(xy.first), xy.second);
        opts[ur]->zero_grad();
        loss.backward();
        opts[ur]->step();
      }
    }
    tg::NoGradGuard no_grad;
    const auto p0 = nets[0]->parameters(), p1 = nets[1]->parameters();
    for (std::size_t i = 0; i < p0.size(); ++i) {
      const tg::Tensor mean = (p0[i] + p1[i]) * 0.5;
      p0[i].copy_(mean);
      p1[i].copy_(mean);
    }
  }
  CHECK(differs(run.params, flat(*nets[0])) <= 1e-12);
}

TEST_CASE("LocalSGD: the replicas drift between averagings and agree after one") {
  const data::TensorDataset ds = global_data(tg::kFloat64);
  data::DataLoader loader = shard(ds, dist::rank());
  auto net = make_net(1, tg::kFloat64);
  Opt opt = make_sgd(net->parameters(), 0);
  dist::LocalSGD local(*net, *opt, {.period = 3});
  std::vector<bool> averaged;
  for (auto& [x, y] : loader) {
    tg::Tensor loss = nn::functional::cross_entropy((*net)(x), y);
    opt->zero_grad();
    loss.backward();
    opt->step();
    averaged.push_back(local.step());
    CHECK(same_on_every_rank(flat(*net)) == averaged.back());
  }
  CHECK(averaged == std::vector<bool>{false, false, true, false});
  local.average();  // mid-period, as before an evaluation
  CHECK(same_on_every_rank(flat(*net)));
  CHECK(local.averagings() == 2);
  local.set_steps(5);  // a run resumed at step 5: the next step (the 6th) averages
  CHECK(local.steps() == 5);
  CHECK(local.step());
  CHECK(local.averagings() == 3);
  // Averaging writes the parameters in place: a graph recorded before it is refused, as after
  // any in-place update, instead of differentiating with the new values.
  const auto [x, y] = *loader.begin();
  tg::Tensor loss = nn::functional::cross_entropy((*net)(x), y);
  local.average();
  CHECK_THROWS_WITH_AS(loss.backward(), doctest::Contains("was modified in place"), tg::StateError);
}

TEST_CASE("LocalSGD: Adam's moments averaged, and optimizer state that differs is refused") {
  const data::TensorDataset ds = global_data(tg::kFloat64);
  data::DataLoader loader = shard(ds, dist::rank());
  auto net = make_net(1, tg::kFloat64);
  tg::optim::Adam opt(net->parameters(), {.lr = 0.01});
  dist::LocalSGD local(*net, opt, {.period = 2, .average_optimizer_state = true});
  for (auto& [x, y] : loader) {
    tg::Tensor loss = nn::functional::cross_entropy((*net)(x), y);
    opt.zero_grad();
    loss.backward();
    opt.step();
    local.step();
  }
  CHECK(local.averagings() == 2);
  const Run run = ended(*net, opt, local.averagings());
  CHECK(run.momentum.size() == 2 * run.params.size());  // exp_avg and exp_avg_sq
  CHECK(same_on_every_rank(run.momentum));
  CHECK(same_on_every_rank(run.params));
  // On rank 1 one parameter never gets a gradient, so its moments are never made there.
  auto fresh = make_net(1, tg::kFloat64);
  tg::optim::Adam opt2(fresh->parameters(), {.lr = 0.01});
  dist::LocalSGD local2(*fresh, opt2, {.period = 1, .average_optimizer_state = true});
  for (auto& [x, y] : loader) {
    tg::Tensor loss = nn::functional::cross_entropy((*fresh)(x), y);
    opt2.zero_grad();
    loss.backward();
    if (dist::rank() == 1) fresh->parameters()[0].set_grad(tg::Tensor());
    opt2.step();
    CHECK_THROWS_WITH_AS(local2.step(),
                         doctest::Contains("LocalSGD: the ranks' optimizer state differs in size"),
                         tg::ValueError);
    break;
  }
}

TEST_CASE("LocalSGD: bad options and models that differ between ranks are refused by name") {
  auto net = make_net(1, tg::kFloat64);
  Opt opt = make_sgd(net->parameters(), 0);
  CHECK_THROWS_WITH_AS(dist::LocalSGD(*net, *opt, {.period = 0}),
                       "LocalSGD: period must be >= 1, got 0", tg::ValueError);
  dist::LocalSGD local(*net, *opt);
  CHECK_THROWS_WITH_AS(local.set_steps(-1), "LocalSGD: set_steps needs a count >= 0, got -1",
                       tg::ValueError);
  const int r = dist::rank();
  nn::Sequential wide(nn::Linear(5, r == 0 ? 16 : 17), nn::Tanh());
  Opt wide_opt = make_sgd(wide.parameters(), 0);
  CHECK_THROWS_WITH_AS(dist::LocalSGD(wide, *wide_opt),
                       doctest::Contains("LocalSGD: the ranks' models differ at '0.weight'"),
                       tg::ValueError);
}

TEST_CASE("LocalSGD: every rank resumes from rank 0's Checkpointer after an averaging, exactly") {
  // 3 epochs of 4 steps per rank, averaging model and momentum every 2 steps; the interrupted
  // run stops after 6 (mid-epoch) and a new job resumes from the checkpoint rank 0 wrote there.
  const data::TensorDataset ds = global_data(tg::kFloat64);
  tg::Tensor pid = tg::scalar_tensor(static_cast<double>(::getpid()), {.dtype = tg::kInt64});
  dist::broadcast(pid, 0);
  const std::string dir =
      (std::filesystem::temp_directory_path() /
       ("tapegrad-local-sgd-" + std::to_string(pid.to_vector<std::int64_t>()[0])))
          .string();
  auto train = [&](std::uint64_t seed, std::int64_t stop_at, bool resume) {
    data::DataLoader loader = shard(ds, dist::rank());
    auto net = make_net(seed, tg::kFloat64);
    Opt opt = make_sgd(net->parameters(), 0.9);
    tg::train::Checkpointer ckpt(*net, *opt, nullptr,
                                 {.dir = dir,
                                  .every_epochs = 0,
                                  .every_steps = 2,
                                  .write = dist::rank() == 0,
                                  .verbose = false});
    ckpt.attach(loader);
    tg::train::Progress p;
    if (resume) p = ckpt.resume().value_or(tg::train::Progress{});
    dist::LocalSGD local(*net, *opt, {.period = 2, .average_optimizer_state = true});
    local.set_steps(p.step);
    while (p.epoch < 3 && p.step < stop_at) {
      for (auto& [x, y] : loader) {
        opt->zero_grad();
        nn::functional::cross_entropy((*net)(x), y).backward();
        opt->step();
        local.step();
        ++p.step, ++p.batch;
        if (stop_at < 12) ckpt.on_step(p);
        if (p.step == stop_at) break;
      }
      if (p.step == stop_at && p.batch < loader.num_batches()) break;
      ++p.epoch, p.batch = 0;
    }
    return std::pair(p, flat(*net));
  };
  const auto whole = train(1, 12, false);
  const auto first = train(1, 6, false);
  CHECK(first.first.step == 6);
  dist::barrier();  // rank 0's last checkpoint is written before any rank looks for it
  const auto resumed = train(99, 12, true);  // other weights: the checkpoint replaces them
  CHECK(resumed.first.step == 12);
  CHECK(resumed.second == whole.second);
  CHECK(same_on_every_rank(resumed.second));
  dist::barrier();
  if (dist::rank() == 0) std::filesystem::remove_all(dir);
}
