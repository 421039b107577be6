// ZeroRedundancyOptimizer on two ranks: the steps the unsharded optimizer takes under
// DistributedDataParallel, bit for bit (SGD with momentum and Adam, float32 and float64, one
// bucket or many; an empty shard; a frozen parameter); each rank's shard and state about half
// the model; schedules reach the shard optimizer; checkpoints are the unsharded optimizer's,
// saved and loaded both ways; misuse and a bad checkpoint refused by name.
#include "helpers.h"

namespace {
using Factory = dist::ZeroRedundancyOptimizer::Factory;

Factory factory(bool adam) {
  return [adam](const tg::optim::NamedParams& shard) -> std::unique_ptr<tg::optim::Optimizer> {
    if (adam) return std::make_unique<tg::optim::Adam>(shard, tg::optim::AdamOptions{.lr = 0.01});
    return std::make_unique<tg::optim::SGD>(
        shard, tg::optim::SGDOptions{.lr = 0.1, .momentum = 0.9, .weight_decay = 0.01});
  };
}

// 20 steps of two ranks with 8 samples each; the optimizer sharded or not.
std::vector<double> train(bool adam, tg::Dtype d, double bucket_mb, bool sharded) {
  const data::TensorDataset ds = global_data(d);
  data::DataLoader loader(
      ds, {.batch_size = 8, .shuffle = true, .seed = 5, .num_replicas = 2, .rank = dist::rank()});
  dist::DistributedDataParallel ddp(make_net(dist::rank() == 0 ? 1 : 99, d),
                                    {.bucket_mb = bucket_mb});
  std::unique_ptr<tg::optim::Optimizer> opt =
      sharded
          ? std::make_unique<dist::ZeroRedundancyOptimizer>(ddp.named_parameters(), factory(adam))
          : factory(adam)(ddp.named_parameters());
  for (int e = 0; e < 5; ++e)
    for (auto& [x, y] : loader) {
      tg::Tensor loss = nn::functional::cross_entropy(ddp(x), y);
      opt->zero_grad();
      loss.backward();
      opt->step();
    }
  return flat(ddp.module());
}
}  // namespace

TEST_CASE("ZeroRedundancyOptimizer: the unsharded optimizer's steps, bit for bit") {
  for (bool adam : {false, true})
    for (tg::Dtype d : {tg::kFloat64, tg::kFloat32})
      for (double mb : {25.0, 400.0 / (1024 * 1024)}) {
        INFO((adam ? "Adam " : "SGD ") << tg::dtype_name(d) << " bucket_mb " << mb);
        const std::vector<double> ref = train(adam, d, mb, false);
        const std::vector<double> got = train(adam, d, mb, true);
        CHECK(got == ref);
      }
}

TEST_CASE("ZeroRedundancyOptimizer: each rank holds half the elements and their state") {
  auto net = make_net(1, tg::kFloat32);  // 419 parameters in 6 tensors
  const auto named = net->named_parameters();
  dist::ZeroRedundancyOptimizer opt(named, factory(true));
  // Two shards of 224 (419 halved, rounded up to 16): rank 0's holds 0.weight (80), 0.bias (16)
  // and 2.weight's first 128 elements; rank 1's the rest (195).
  std::int64_t mine = 0;
  for (const auto& [name, piece] : opt.shard()) mine += piece.numel();
  CHECK(mine == (dist::rank() == 0 ? 224 : 419 - 224));
  if (dist::rank() == 0) {
    REQUIRE(opt.shard().size() == 3);
    CHECK(opt.shard()[0].first == "0.weight");
    CHECK(opt.shard()[2].first == "2.weight[0:128]");
  } else {
    CHECK(opt.shard().front().first == "2.weight[128:256]");
  }
  // The parameters keep their values (and identity) in the shared buffer.
  CHECK(flat(*net) == flat(*make_net(1, tg::kFloat32)));

  const tg::Tensor x = tg::slice(global_data(tg::kFloat32).inputs(), 0, 0, 1);
  tg::Tensor loss = (*net)(x).sum();
  loss.backward();
  opt.step();
  std::int64_t state = 0;
  const tg::optim::Optimizer& local = opt.shard_optimizer();
  for (std::size_t i = 0; i < local.num_params(); ++i)
    for (const tg::Tensor& b : local.state(i).buffers) state += b.defined() ? b.numel() : 0;
  CHECK(state == 2 * mine);  // Adam's two moments, for this rank's elements only
  // Both ranks end with the same, updated parameters.
  tg::Tensor all = tg::from_vector(flat(*net), {419});
  tg::Tensor other = all.clone();
  dist::broadcast(other, 0);
  CHECK(all.to_vector<double>() == other.to_vector<double>());
  CHECK(flat(*net) != flat(*make_net(1, tg::kFloat32)));
}

TEST_CASE("ZeroRedundancyOptimizer: schedules and zero_grad reach the shard optimizer") {
  auto net = make_net(1, tg::kFloat64);
  dist::ZeroRedundancyOptimizer opt(net->parameters(), factory(false));
  CHECK(opt.lr() == 0.1);
  tg::optim::StepLR sched(opt, 1, 0.5);
  sched.step();
  CHECK(opt.shard_optimizer().lr() == 0.05);
  CHECK(std::string(opt.cycled_momentum()) == "momentum");
  opt.set_momentum(0.5, 0);
  CHECK(opt.shard_optimizer().momentum() == 0.5);
  CHECK_THROWS_AS(opt.set_momentum(-1, 0), tg::ValueError);

  const tg::Tensor x = tg::slice(global_data(tg::kFloat64).inputs(), 0, 0, 1);
  (*net)(x).sum().backward();
  opt.zero_grad();
  for (const tg::Tensor& p : net->parameters()) CHECK(p.grad().abs().sum().item() == 0);
}

TEST_CASE("ZeroRedundancyOptimizer: misuse is refused by name") {
  auto net = make_net(1, tg::kFloat32);
  CHECK_THROWS_WITH_AS(
      dist::ZeroRedundancyOptimizer(
          net->parameters(),
          [](const tg::optim::NamedParams& shard) -> std::unique_ptr<tg::optim::Optimizer> {
            return std::make_unique<tg::optim::LBFGS>(shard);
          }),
      doctest::Contains("LBFGS updates all its parameters at once"), tg::ValueError);
  CHECK_THROWS_WITH_AS(
      dist::ZeroRedundancyOptimizer(
          net->parameters(),
          [](const tg::optim::NamedParams&) -> std::unique_ptr<tg::optim::Optimizer> {
            return std::make_unique<tg::optim::SGD>(std::vector<tg::Tensor>{tg::zeros({2})},
                                                    tg::optim::SGDOptions{.lr = 0.1});
          }),
      doctest::Contains("must hold exactly the shard it was given"), tg::ValueError);
  auto mixed = make_net(1, tg::kFloat32);
  mixed->parameters()[5].set_data(mixed->parameters()[5].to(tg::kFloat64));
  CHECK_THROWS_WITH_AS(dist::ZeroRedundancyOptimizer(mixed->named_parameters(), factory(true)),
                       doctest::Contains("parameter '4.bias' is float64 but '0.weight' is float32"),
                       tg::ValueError);
  auto wide = std::make_shared<nn::Sequential>(nn::Linear(5, dist::rank() == 0 ? 16 : 17));
  CHECK_THROWS_WITH_AS(dist::ZeroRedundancyOptimizer(wide->named_parameters(), factory(true)),
                       doctest::Contains("the ranks' models differ at '0.weight'"), tg::ValueError);

  dist::ZeroRedundancyOptimizer opt(net->named_parameters(), factory(true));
  tg::Archive ar;
  CHECK_THROWS_WITH_AS(opt.save_state(ar), doctest::Contains("holds no consolidated state to save"),
                       tg::StateError);
  CHECK_THROWS_WITH_AS(opt.consolidate_state(2),
                       "ZeroRedundancyOptimizer: consolidate_state onto rank 2 of 2",
                       tg::ValueError);
  opt.consolidate_state(1);
  if (dist::rank() == 1) opt.save_state(ar);
  (*net)(tg::slice(global_data(tg::kFloat32).inputs(), 0, 0, 1)).sum().backward();
  opt.step();
  CHECK_THROWS_WITH_AS(opt.save_state(ar),
                       doctest::Contains(dist::rank() == 1 ? "1 step(s) since consolidate_state()"
                                                           : "holds no consolidated state"),
                       tg::StateError);
  net->to(tg::kFloat64);  // every parameter leaves the shared buffer
  CHECK_THROWS_WITH_AS(opt.step(), doctest::Contains("parameter 0 was given new data"),
                       tg::StateError);
}

namespace {
// Two epochs (8 steps) of two ranks on their halves of the global batches under a StepLR, the
// optimizer sharded or not, its state saved (consolidated onto rank 0 when sharded); then two
// more epochs. Resumed: the first two epochs' batches skipped, the model and the optimizer
// loaded from `from`'s, then the same two epochs.
struct Run {
  std::vector<double> at8, at16;  // the parameters after 8 and 16 steps
  tg::Archive state;              // the optimizer's after 8
};

Run run(bool sharded, const Run* from = nullptr) {
  const data::TensorDataset ds = global_data(tg::kFloat64);
  data::DataLoader loader(
      ds, {.batch_size = 8, .shuffle = true, .seed = 5, .num_replicas = 2, .rank = dist::rank()});
  auto net = make_net(1, tg::kFloat64);
  dist::DistributedDataParallel ddp(net);
  auto make = [](const tg::optim::NamedParams& p) -> std::unique_ptr<tg::optim::Optimizer> {
    return std::make_unique<tg::optim::NAdam>(p, tg::optim::NAdamOptions{.lr = 0.01});
  };
  std::unique_ptr<tg::optim::Optimizer> opt =
      sharded ? std::make_unique<dist::ZeroRedundancyOptimizer>(net->named_parameters(), make)
              : make(net->named_parameters());
  auto epochs = [&](int n, tg::optim::StepLR* sched) {
    for (int e = 0; e < n; ++e)
      for (auto& [x, y] : loader) {
        tg::Tensor loss = nn::functional::cross_entropy(ddp(x), y);
        opt->zero_grad();
        loss.backward();
        opt->step();
        if (sched) sched->step();
      }
  };
  Run r;
  if (!from) {
    tg::optim::StepLR sched(*opt, 3, 0.5);
    epochs(2, &sched);
    if (auto* zero = dynamic_cast<dist::ZeroRedundancyOptimizer*>(opt.get()))
      zero->consolidate_state();
    if (!sharded || dist::rank() == 0) opt->save_state(r.state);
  } else {
    for (int e = 0; e < 2; ++e)
      for (auto& batch : loader) (void)batch;  // the loader's epochs move on
    tg::NoGradGuard no_grad;
    std::size_t k = 0;
    for (const tg::Tensor& p : net->parameters()) {
      const auto n = static_cast<std::size_t>(p.numel());
      p.copy_(tg::from_vector(std::vector<double>(from->at8.begin() + k, from->at8.begin() + k + n),
                              p.shape()));
      k += n;
    }
    opt->load_state(from->state);
  }
  r.at8 = flat(*net);
  epochs(2, nullptr);
  r.at16 = flat(*net);
  return r;
}
}  // namespace

TEST_CASE("ZeroRedundancyOptimizer: checkpoints in the unsharded optimizer's form, both ways") {
  const Run plain = run(false), zero = run(true);
  CHECK(zero.at8 == plain.at8);
  CHECK(zero.at16 == plain.at16);
  // Consolidated onto rank 0, the sharded state is the unsharded optimizer's, entry for entry
  // (NAdam: two buffers and a scalar per parameter; the schedule's lr).
  if (dist::rank() == 0) {
    REQUIRE(zero.state.names() == plain.state.names());
    for (const std::string& name : plain.state.names()) {
      INFO(name);
      if (plain.state.is_tensor(name))
        CHECK(zero.state.get(name).to_vector<double>() ==
              plain.state.get(name).to_vector<double>());
      else
        CHECK(zero.state.get_text(name) == plain.state.get_text(name));
    }
    CHECK(plain.state.get_double("optim.group.0.lr") == 0.01 * 0.25);  // StepLR at step 8
  }
  // Every rank loads the unsharded optimizer's checkpoint into a fresh sharded optimizer (and a
  // fresh model the step-8 parameters): the next 8 steps are the uninterrupted run's.
  const Run resumed = run(true, &plain);
  CHECK(resumed.at16 == plain.at16);
  // An SGD checkpoint is refused by name.
  tg::Archive sgd;
  auto net = make_net(1, tg::kFloat64);
  tg::optim::SGD(net->named_parameters(), {.lr = 0.1}).save_state(sgd);
  dist::ZeroRedundancyOptimizer opt(net->named_parameters(), factory(true));
  CHECK_THROWS_WITH_AS(opt.load_state(sgd),
                       "Adam: cannot load state: the checkpoint holds SGD state", tg::ValueError);
}

namespace {
// Four steps on one batch every rank shares (no DDP: the gradients agree already), the
// optimizer sharded or not; the model's parameter 2 frozen when asked.
std::vector<double> shared_steps(const std::shared_ptr<nn::Sequential>& net, bool sharded,
                                 bool freeze) {
  if (freeze) net->parameters()[2].requires_grad_(false);
  std::unique_ptr<tg::optim::Optimizer> opt;
  if (sharded)
    opt = std::make_unique<dist::ZeroRedundancyOptimizer>(net->named_parameters(), factory(true));
  else
    opt = factory(true)(net->named_parameters());
  const tg::Tensor x = global_data(tg::kFloat64).inputs();
  for (int s = 0; s < 4; ++s) {
    const tg::Tensor y = (*net)(x);
    opt->zero_grad();
    (y * y).mean().backward();
    opt->step();
  }
  return flat(*net);
}

std::shared_ptr<nn::Sequential> tiny() {
  tg::Generator gen(4);
  auto m = std::make_shared<nn::Sequential>(nn::Linear(5, 1, true, &gen));
  m->to(tg::kFloat64);
  return m;
}
}  // namespace

TEST_CASE("ZeroRedundancyOptimizer: an empty shard, a frozen parameter, a bad checkpoint") {
  // 6 elements, all in rank 0's shard of 16: rank 1 updates nothing and still gathers.
  {
    auto net = tiny();
    dist::ZeroRedundancyOptimizer opt(net->named_parameters(), factory(true));
    CHECK(opt.shard().size() == (dist::rank() == 0 ? 2u : 0u));
  }
  CHECK(shared_steps(tiny(), true, false) == shared_steps(tiny(), false, false));
  // A frozen parameter (2.weight, cut between the shards) gets no gradient and stays.
  const std::vector<double> frozen = shared_steps(make_net(1, tg::kFloat64), true, true);
  CHECK(frozen == shared_steps(make_net(1, tg::kFloat64), false, true));
  const std::vector<double> start = flat(*make_net(1, tg::kFloat64));
  CHECK(std::equal(start.begin() + 96, start.begin() + 352, frozen.begin() + 96));

  // A checkpoint with one bad entry changes nothing; the good one loads.
  auto net = make_net(1, tg::kFloat64);
  tg::optim::Adam plain(net->named_parameters(), {.lr = 0.01});
  (*net)(global_data(tg::kFloat64).inputs()).sum().backward();
  plain.step();
  tg::Archive good, bad;
  plain.save_state(good);
  plain.save_state(bad);
  bad.put("optim.state.2.weight.exp_avg", tg::zeros({3}, {.dtype = tg::kFloat64}));
  auto other = make_net(1, tg::kFloat64);
  dist::ZeroRedundancyOptimizer opt(other->named_parameters(), factory(true));
  opt.set_lr(0.5, 0);
  CHECK_THROWS_WITH_AS(opt.load_state(bad),
                       doctest::Contains("buffer 'optim.state.2.weight.exp_avg' is"),
                       tg::ValueError);
  CHECK(opt.lr() == 0.5);
  for (std::size_t i = 0; i < opt.shard_optimizer().num_params(); ++i)
    CHECK(opt.shard_optimizer().state(i).step == 0);
  opt.load_state(good);
  CHECK(opt.lr() == 0.01);
  for (std::size_t i = 0; i < opt.shard_optimizer().num_params(); ++i)
    CHECK(opt.shard_optimizer().state(i).step == 1);
}
