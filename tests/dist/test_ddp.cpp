// DistributedDataParallel: two ranks, each with half of every global batch, take the steps one
// process takes on the whole batches (float64 to 1e-12 relative, float32 to 1e-5), with SGD +
// momentum and Adam, one bucket or many uneven ones, and no_sync accumulation.
#include "../core/helpers.h"

namespace dist = tg::dist;
namespace nn = tg::nn;
namespace data = tg::data;

namespace {
data::TensorDataset global_data(tg::Dtype d) {
  tg::Generator gen(21);
  tg::Tensor x = tg::randn({64, 5}, {.dtype = d}, &gen);
  std::vector<std::int64_t> y(64);
  for (std::size_t i = 0; i < y.size(); ++i) y[i] = static_cast<std::int64_t>((i * 5 + i / 7) % 3);
  return {x, tg::from_vector(y, {64})};
}

std::shared_ptr<nn::Sequential> make_net(std::uint64_t seed, tg::Dtype d) {
  tg::Generator gen(seed);
  auto m = std::make_shared<nn::Sequential>(nn::Linear(5, 16, true, &gen), nn::Tanh(),
                                            nn::Linear(16, 16, true, &gen), nn::ReLU(),
                                            nn::Linear(16, 3, true, &gen));
  m->to(d);
  return m;
}

std::unique_ptr<tg::optim::Optimizer> make_opt(bool adam, const std::vector<tg::Tensor>& p) {
  if (adam) return std::make_unique<tg::optim::Adam>(p, tg::optim::AdamOptions{.lr = 0.01});
  return std::make_unique<tg::optim::SGD>(p, tg::optim::SGDOptions{.lr = 0.1, .momentum = 0.9});
}

std::vector<double> flat(const nn::Module& m) {
  std::vector<double> r;
  for (const tg::Tensor& p : m.parameters())
    for (double v : p.to(tg::kFloat64).to_vector<double>()) r.push_back(v);
  return r;
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

// float64: the largest elementwise |a - b| / |b| (|b| below 1e-3 counts as 1e-3); float32,
// whose sums in another order drift by an ulp a step: ||a - b|| / ||b||.
double relative_error(const std::vector<double>& a, const std::vector<double>& b,
                      bool elementwise) {
  double worst = 0, diff = 0, norm = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    worst = std::max(worst, std::abs(a[i] - b[i]) / std::max(1e-3, std::abs(b[i])));
    diff += (a[i] - b[i]) * (a[i] - b[i]);
    norm += b[i] * b[i];
  }
  return elementwise ? worst : std::sqrt(diff / norm);
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
                       doctest::Contains("the ranks' models differ at parameter '0.weight'"),
                       tg::ValueError);
  auto deep = std::make_shared<nn::Sequential>(nn::Linear(5, 4));
  if (r == 1) deep->push_back(nn::Linear(4, 4));
  CHECK_THROWS_WITH_AS(dist::DistributedDataParallel{deep},
                       doctest::Contains("the ranks' models differ: between 2 and 4 parameters"),
                       tg::ValueError);
}
