// DistributedDataParallel: two ranks, each with half of every global batch, take the steps one
// process takes on the whole batches (float64 to 1e-12 relative, float32 to 1e-5), with SGD +
// momentum and Adam, one bucket or many uneven ones, and no_sync accumulation.
#include "helpers.h"

namespace {
std::unique_ptr<tg::optim::Optimizer> make_opt(bool adam, const std::vector<tg::Tensor>& p) {
  if (adam) return std::make_unique<tg::optim::Adam>(p, tg::optim::AdamOptions{.lr = 0.01});
  return std::make_unique<tg::optim::SGD>(p, tg::optim::SGDOptions{.lr = 0.1, .momentum = 0.9});
}

// 20 steps on global batches of 16 in one process.
std::vector<double> single_process(bool adam, tg::Dtype d) {
  const data::TensorDataset ds = global_data(d);
  data::DataLoader loader(ds, {.batch_size = 16, .shuffle = true, .seed = 5});
  auto net = make_net(1, d);
  auto opt = make_opt(adam, net->parameters());
  int steps = 0;
  for (int e = 0; e < 5; ++e)
    for (auto& [x, y] : loader) {
      tg::Tensor loss = nn::functional::cross_entropy((*net)(x), y);
      opt->zero_grad();
      loss.backward();
      opt->step();
      ++steps;
    }
  CHECK(steps == 20);
  return flat(*net);
}

// The same 20 steps with two ranks of 8 samples each (or two micro-batches of 4 with no_sync).
std::vector<double> two_ranks(bool adam, tg::Dtype d, double bucket_mb, bool accumulate) {
  const data::TensorDataset ds = global_data(d);
  const int r = dist::rank();
  data::DataLoader loader(
      ds,
      {.batch_size = accumulate ? 4 : 8, .shuffle = true, .seed = 5, .num_replicas = 2, .rank = r});
  // Rank 1 starts from other weights: the constructor's broadcast must replace them.
  dist::DistributedDataParallel ddp(make_net(r == 0 ? 1 : 99, d), {.bucket_mb = bucket_mb});
  auto opt = make_opt(adam, ddp.parameters());
  for (int e = 0; e < 5; ++e) {
    int micro = 0;
    for (auto& [x, y] : loader) {
      if (!accumulate) {
        tg::Tensor loss = nn::functional::cross_entropy(ddp(x), y);
        opt->zero_grad();
        loss.backward();
        opt->step();
      } else if (micro++ % 2 == 0) {
        opt->zero_grad();
        auto guard = ddp.no_sync();
        (nn::functional::cross_entropy(ddp(x), y) * 0.5).backward();
      } else {
        (nn::functional::cross_entropy(ddp(x), y) * 0.5).backward();
        opt->step();
      }
    }
  }
  return flat(ddp.module());
}

}  // namespace

TEST_CASE("DistributedDataParallel: two ranks take the single-process steps") {
  for (bool adam : {false, true})
    for (tg::Dtype d : {tg::kFloat64, tg::kFloat32}) {
      const double tol = d == tg::kFloat64 ? 1e-12 : 1e-5;
      const std::vector<double> ref = single_process(adam, d);
      // One bucket; and buckets of 400 bytes, which split layers at uneven places.
      for (double mb : {25.0, 400.0 / (1024 * 1024)})
        for (bool accumulate : {false, true}) {
          const std::string what = std::string(adam ? "Adam " : "SGD ") + tg::dtype_name(d) +
                                   " bucket_mb " + std::to_string(mb) +
                                   (accumulate ? " no_sync x2" : "");
          INFO(what);
          const std::vector<double> got = two_ranks(adam, d, mb, accumulate);
          CHECK(got.size() == ref.size());
          CHECK(relative_error(got, ref, d == tg::kFloat64) <= tol);
          // Every rank holds the same parameters.
          tg::Tensor mine = tg::from_vector(got, {static_cast<std::int64_t>(got.size())});
          tg::Tensor other = mine.clone();
          dist::broadcast(other, 0);
          CHECK(mine.to_vector<double>() == other.to_vector<double>());
        }
    }
}

TEST_CASE("DistributedDataParallel: buckets, and models that differ between ranks") {
  dist::DistributedDataParallel one(make_net(1, tg::kFloat32));
  CHECK(one.bucket_sizes() == std::vector<std::int64_t>{3 + 48 + 16 + 256 + 16 + 80});
  dist::DistributedDataParallel many(make_net(1, tg::kFloat32), {.bucket_mb = 100.0 / 1048576});
  // Last parameters first (4.bias, 4.weight, 2.bias, ...), a bucket closing once it holds 100
  // bytes (25 floats) or more.
  CHECK(many.bucket_sizes() == std::vector<std::int64_t>{3 + 48, 16 + 256, 16 + 80});
  CHECK(many.named_parameters()[0].first == "module.0.weight");

  const int r = dist::rank();
  auto wide = std::make_shared<nn::Sequential>(nn::Linear(5, r == 0 ? 16 : 17), nn::Tanh());
  CHECK_THROWS_WITH_AS(dist::DistributedDataParallel{wide},
                       doctest::Contains("the ranks' models differ at '0.weight'"), tg::ValueError);
  auto deep = std::make_shared<nn::Sequential>(nn::Linear(5, 4));
  if (r == 1) deep->push_back(nn::Linear(4, 4));
  CHECK_THROWS_WITH_AS(
      dist::DistributedDataParallel{deep},
      doctest::Contains("the ranks' models differ: between 2 and 4 parameters and buffers"),
      tg::ValueError);
}

namespace {
// A model with a layer its forward does not use (torch's "unused parameters"), and an optional
// first op whose backward throws, which leaves the later layers' buckets started.
struct PartlyUsed : nn::Module {
  std::shared_ptr<nn::Linear> a, unused, b;
  bool fail = false;
  PartlyUsed() {
    tg::Generator gen(3);
    a = register_module("a", nn::Linear(5, 8, true, &gen));
    unused = register_module("unused", nn::Linear(8, 8, true, &gen));
    b = register_module("b", nn::Linear(8, 3, true, &gen));
    to(tg::kFloat64);
  }
  tg::Tensor forward(const tg::Tensor& x) override {
    tg::Tensor h = (*a)(x);
    if (fail)
      h = tg::apply_function(
          "fails_in_backward", {h}, [](tg::FunctionCtx&, const auto& in) { return in[0] * 1.0; },
          [](tg::FunctionCtx&, const tg::Tensor&) -> std::vector<tg::Tensor> {
            throw std::runtime_error("backward failed");
          });
    return (*b)(tg::relu(h));
  }
};

tg::Tensor rank_batch() {
  tg::Generator gen(40 + static_cast<std::uint64_t>(dist::rank()));
  return tg::randn({4, 5}, {.dtype = tg::kFloat64}, &gen);
}
}  // namespace

TEST_CASE("DistributedDataParallel: reductions start during backward, unused parameters") {
  auto model = std::make_shared<PartlyUsed>();
  // One bucket per parameter (b.bias, b.weight, unused.bias, ...).
  dist::DistributedDataParallel ddp(model, {.bucket_mb = 1.0 / 1048576});
  REQUIRE(ddp.bucket_sizes().size() == 6);
  const tg::Tensor x = rank_batch();

  // What the average must be: each rank's own gradients, summed over ranks, halved.
  ddp(x).sum().backward();
  const auto s1 = ddp.stats();
  CHECK(s1.reductions == 1);
  // b's two buckets start while backward still has a's gradients to compute; the unused
  // layer's never completes, so it and the buckets after it (a's) start at the end.
  CHECK(s1.buckets_started_early == 2);
  CHECK(s1.buckets_started_late == 4);
  CHECK_FALSE(model->unused->weight().grad().defined());
  std::vector<tg::Tensor> averaged;
  for (const tg::Tensor& p : {model->a->weight(), model->b->weight()})
    averaged.push_back(p.grad().clone());

  model->zero_grad();
  {
    auto local = ddp.no_sync();
    ddp(x).sum().backward();
  }
  CHECK(ddp.stats().reductions == 1);
  std::vector<tg::Tensor> mine{model->a->weight().grad().clone(),
                               model->b->weight().grad().clone()};
  for (std::size_t i = 0; i < mine.size(); ++i) {
    tg::Tensor sum = mine[i].clone();
    dist::all_reduce(sum);
    check_values(averaged[i], (sum * 0.5).to_vector<double>());
  }
}

TEST_CASE("DistributedDataParallel: after a backward that threw half-way, the next one is right") {
  auto model = std::make_shared<PartlyUsed>();
  dist::DistributedDataParallel ddp(model, {.bucket_mb = 1.0 / 1048576});
  const tg::Tensor x = rank_batch();
  ddp(x).sum().backward();
  std::vector<std::vector<double>> expected;
  for (const tg::Tensor& p : {model->a->weight(), model->b->weight(), model->b->bias()})
    expected.push_back(p.grad().to_vector<double>());

  // Both ranks throw after b's buckets started (their reductions run into b's gradients); the
  // reduction of that pass is finished before backward returns, and dropped.
  model->zero_grad();
  model->fail = true;
  CHECK_THROWS_WITH(ddp(x).sum().backward(), "backward failed");
  model->fail = false;
  model->zero_grad();
  ddp(x).sum().backward();
  check_values(model->a->weight().grad(), expected[0]);
  check_values(model->b->weight().grad(), expected[1]);
  check_values(model->b->bias().grad(), expected[2]);
  CHECK(ddp.stats().reductions == 2);
}

TEST_CASE("DistributedDataParallel: a gradient replaced, or in a graph, is averaged too") {
  auto model = std::make_shared<PartlyUsed>();
  dist::DistributedDataParallel ddp(model);
  const tg::Tensor x = rank_batch();
  ddp(x).sum().backward();  // from here on the gradients are views into the bucket
  const std::vector<double> expected = model->a->weight().grad().to_vector<double>();
  // One bucket, the last parameters first: a.bias's gradient lies right before a.weight's.
  const tg::Tensor ab = model->a->bias().grad(), aw = model->a->weight().grad();
  CHECK(ab.data<double>() + ab.numel() == aw.data<double>());

  // Fresh gradient tensors in their place (torch's `p.grad = zeros`): copied into the bucket,
  // averaged, and replaced by the bucket's views again.
  for (const tg::Tensor& p : model->parameters())
    p.set_grad(tg::zeros(p.shape(), {.dtype = tg::kFloat64}));
  ddp(x).sum().backward();
  check_values(model->a->weight().grad(), expected);
  model->zero_grad();
  ddp(x).sum().backward();
  check_values(model->a->weight().grad(), expected);

  // A gradient with a graph (create_graph) keeps its identity: averaged where it is.
  for (const tg::Tensor& p : model->parameters()) p.set_grad(tg::Tensor());
  ddp(x).sum().backward({}, {.create_graph = true});
  const tg::Tensor g = model->a->weight().grad();
  CHECK(g.requires_grad());
  check_values(g, expected);
}

namespace {
// A layer with running state, as BatchNorm keeps it.
struct Counting : nn::Module {
  tg::Tensor seen = register_buffer("seen", tg::zeros({2}));
  tg::Tensor forward(const tg::Tensor& x) override {
    if (is_training()) {
      tg::NoGradGuard no_grad;
      seen.add_(x.sum(0));
    }
    return x;
  }
};
}  // namespace

TEST_CASE("DistributedDataParallel: rank 0's buffers everywhere, before every training forward") {
  const int r = dist::rank();
  auto m = std::make_shared<Counting>();
  m->seen.fill_(r == 0 ? 1.0 : 5.0);
  dist::DistributedDataParallel ddp(m);
  CHECK(m->seen.to_vector<float>() == std::vector<float>{1, 1});
  // Each rank's forward adds its own batch; the next training forward starts from rank 0's.
  const tg::Tensor x = tg::full({1, 2}, r == 0 ? 1.0 : 10.0);
  ddp(x);
  CHECK(m->seen.to_vector<float>() ==
        std::vector<float>{r == 0 ? 2.0f : 11.0f, r == 0 ? 2.0f : 11.0f});
  ddp(x);
  CHECK(m->seen.to_vector<float>() ==
        std::vector<float>{r == 0 ? 3.0f : 12.0f, r == 0 ? 3.0f : 12.0f});
  // Evaluation leaves them as they are.
  ddp.eval();
  ddp(x);
  CHECK(m->seen.to_vector<float>() ==
        std::vector<float>{r == 0 ? 3.0f : 12.0f, r == 0 ? 3.0f : 12.0f});
  // And a model whose buffers differ between ranks is refused, naming the buffer.
  struct Other : nn::Module {
    tg::Tensor stat;
    explicit Other(std::int64_t n) { stat = register_buffer("stat", tg::zeros({n})); }
    tg::Tensor forward(const tg::Tensor& x) override { return x; }
  };
  CHECK_THROWS_WITH_AS(dist::DistributedDataParallel(std::make_shared<Other>(r == 0 ? 2 : 3)),
                       doctest::Contains("the ranks' models differ at 'stat'"), tg::ValueError);
}
