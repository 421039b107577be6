// ZeroRedundancyOptimizer on two ranks: the steps the unsharded optimizer takes under
// DistributedDataParallel, bit for bit (SGD with momentum and Adam, float32 and float64, one
// bucket or many); each rank's shard and state about half the model; schedules reach the shard
// optimizer; misuse refused by name.
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
  CHECK_THROWS_WITH_AS(opt.save_state(ar), doctest::Contains("saving it is not supported"),
                       tg::StateError);
  net->to(tg::kFloat64);  // every parameter leaves the shared buffer
  CHECK_THROWS_WITH_AS(opt.step(), doctest::Contains("parameter 0 was given new data"),
                       tg::StateError);
}
