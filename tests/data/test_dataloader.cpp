// DataLoader: coverage, order, determinism, drop_last, full-batch and single-sample modes.
#include <algorithm>
#include <set>

#include "../core/helpers.h"

namespace data = tg::data;

namespace {
// Sample i has input [i, -i] and target i, so a batch shows which samples it holds.
data::TensorDataset numbered(std::int64_t n) {
  tg::Tensor idx = tg::arange(n);
  return data::TensorDataset(tg::stack({idx, -idx}, 1), idx.to(tg::kInt64));
}
std::vector<std::int64_t> epoch(data::DataLoader& loader) {
  std::vector<std::int64_t> seen;
  for (auto& [x, y] : loader) {
    CHECK(x.size(0) == y.size(0));
    CHECK(x.at({0, 0}) == static_cast<double>(y.at({0})));  // inputs and targets stay paired
    for (auto v : y.to_vector<std::int64_t>()) seen.push_back(v);
  }
  return seen;
}
}  // namespace

TEST_CASE("dataloader: every sample exactly once per epoch, in order without shuffling") {
  auto ds = numbered(10);
  data::DataLoader loader(ds, {.batch_size = 4});
  CHECK(loader.num_batches() == 3);
  std::vector<std::int64_t> expect(10);
  std::iota(expect.begin(), expect.end(), 0);
  CHECK(epoch(loader) == expect);
  std::vector<std::int64_t> sizes;
  for (auto& [x, y] : loader) sizes.push_back(x.size(0));
  CHECK(sizes == std::vector<std::int64_t>{4, 4, 2});
}

TEST_CASE("dataloader: shuffling is a permutation, deterministic per seed, new each epoch") {
  auto ds = numbered(50);
  data::DataLoader a(ds, {.batch_size = 8, .shuffle = true, .seed = 3});
  data::DataLoader b(ds, {.batch_size = 8, .shuffle = true, .seed = 3});
  data::DataLoader c(ds, {.batch_size = 8, .shuffle = true, .seed = 4});
  const auto a1 = epoch(a), a2 = epoch(a);
  CHECK(a1 == epoch(b));
  CHECK(a2 == epoch(b));
  CHECK(a1 != a2);
  CHECK(a1 != epoch(c));
  auto sorted = a1;
  std::sort(sorted.begin(), sorted.end());
  for (std::int64_t i = 0; i < 50; ++i) CHECK(sorted[i] == i);
  data::DataLoader resumed(ds, {.batch_size = 8, .shuffle = true, .seed = 3});
  resumed.set_epoch(1);
  CHECK(epoch(resumed) == a2);  // epoch 1 is the same whenever it runs
}

TEST_CASE("dataloader: drop_last, full batch and single samples") {
  auto ds = numbered(10);
  data::DataLoader dl(ds, {.batch_size = 4, .drop_last = true});
  CHECK(dl.num_batches() == 2);
  CHECK(epoch(dl).size() == 8);
  data::DataLoader full(ds, {.batch_size = data::kFullBatch});
  CHECK(full.num_batches() == 1);
  for (auto& [x, y] : full) CHECK(x.is_same(ds.inputs()));  // no copy for the whole set
  data::DataLoader one(ds, {.batch_size = 1, .shuffle = true, .seed = 1});
  CHECK(one.num_batches() == 10);
  for (auto& [x, y] : one) CHECK(x.shape() == tg::Shape{1, 2});
  CHECK_THROWS_WITH_AS(data::DataLoader(ds, {.batch_size = 0}),
                       doctest::Contains("DataLoader: batch_size must be >= 1, got 0"),
                       tg::ValueError);
  CHECK_THROWS_AS(data::TensorDataset(tg::zeros({3, 2}), tg::zeros({4})), tg::ShapeError);
}

TEST_CASE("dataloader: a temporary dataset does not compile") {
  // DataLoader keeps a reference: from a temporary it would dangle before the first batch.
  static_assert(
      !std::is_constructible_v<data::DataLoader, data::TensorDataset&&, data::DataLoaderOptions>);
  static_assert(!std::is_constructible_v<data::DataLoader, data::TensorDataset>);
  static_assert(
      std::is_constructible_v<data::DataLoader, data::TensorDataset&, data::DataLoaderOptions>);
  static_assert(std::is_constructible_v<data::DataLoader, const data::Dataset&>);
  data::TensorDataset ds = numbered(4);
  data::DataLoader loader(ds, {.batch_size = 2});
  CHECK(loader.num_batches() == 2);
}

TEST_CASE("dataloader: only a shuffling loader without a seed draws from the global generator") {
  data::TensorDataset ds = numbered(6);
  tg::manual_seed(5);
  const double first = tg::rand({1}).item();
  tg::manual_seed(5);
  data::DataLoader plain(ds, {.batch_size = 2});  // as torch's SequentialSampler
  data::DataLoader seeded(ds, {.batch_size = 2, .shuffle = true, .seed = 3});
  CHECK(tg::rand({1}).item() == first);  // nothing drawn
  tg::manual_seed(5);
  data::DataLoader drawn(ds, {.batch_size = 2, .shuffle = true});
  CHECK(tg::rand({1}).item() != first);
}

TEST_CASE("dataloader: set_epoch starts the next epoch at a batch, then later ones at 0") {
  data::TensorDataset ds = numbered(10);
  data::DataLoader whole(ds, {.batch_size = 3, .shuffle = true, .seed = 4});
  whole.set_epoch(2);
  std::vector<std::vector<float>> all;
  for (auto& [x, y] : whole) all.push_back(x.to_vector<float>());
  data::DataLoader resumed(ds, {.batch_size = 3, .shuffle = true, .seed = 4});
  resumed.set_epoch(2, 2);
  std::vector<std::vector<float>> rest;
  for (auto& [x, y] : resumed) rest.push_back(x.to_vector<float>());
  CHECK(rest == std::vector<std::vector<float>>(all.begin() + 2, all.end()));
  int batches = 0;
  for (auto& b : resumed) batches += b.first.size(0) > 0;
  CHECK(batches == 4);  // the next epoch is whole
  CHECK_THROWS_WITH_AS(resumed.set_epoch(1, 5),
                       "DataLoader::set_epoch: first batch 5 is not in [0, 4]", tg::ValueError);
  CHECK_THROWS_WITH_AS(resumed.set_epoch(-1), "DataLoader::set_epoch: epoch must be >= 0, got -1",
                       tg::ValueError);
}

namespace {
// The sample numbers (numbered(n)'s targets) of every batch of one epoch.
std::vector<std::vector<float>> epoch_of(data::DataLoader& loader) {
  std::vector<std::vector<float>> r;
  for (auto& [x, y] : loader) r.push_back(y.to(tg::kFloat32).to_vector<float>());
  return r;
}
}  // namespace

TEST_CASE("dataloader: replicas pad and deal as torch's DistributedSampler") {
  data::TensorDataset ds = numbered(10);
  // 10 samples over 4 replicas: padded to 12 by repeating the first two, dealt round-robin.
  const std::vector<std::vector<float>> padded = {{0, 4, 8}, {1, 5, 9}, {2, 6, 0}, {3, 7, 1}};
  const std::vector<std::vector<float>> dropped = {{0, 4}, {1, 5}, {2, 6}, {3, 7}};
  for (std::int64_t r = 0; r < 4; ++r) {
    data::DataLoader pad(ds, {.batch_size = 3, .num_replicas = 4, .rank = r});
    CHECK(pad.num_samples() == 3);
    CHECK(epoch_of(pad) == std::vector<std::vector<float>>{padded[r]});
    data::DataLoader drop(ds, {.batch_size = 3, .num_replicas = 4, .rank = r, .drop_uneven = true});
    CHECK(epoch_of(drop) == std::vector<std::vector<float>>{dropped[r]});
  }
  // A huge replica count from outside: one padded sample each, no overflow.
  data::DataLoader huge(ds, {.batch_size = 3, .num_replicas = INT64_MAX, .rank = 0});
  CHECK(epoch_of(huge) == std::vector<std::vector<float>>{{0}});
  CHECK_THROWS_WITH_AS(data::DataLoader(ds, {.num_replicas = 2, .rank = 2}),
                       "DataLoader: rank must be in [0, num_replicas) and num_replicas >= 1; got "
                       "rank 2 of 2",
                       tg::ValueError);
  CHECK_THROWS_WITH_AS(data::DataLoader(ds, {.num_replicas = 11, .rank = 0, .drop_uneven = true}),
                       "DataLoader: 10 samples cannot be shared by 11 replicas with drop_uneven",
                       tg::ValueError);
}

TEST_CASE("dataloader: the replicas' batches of a step are the single-process global batch") {
  data::TensorDataset ds = numbered(48);
  for (int epoch = 0; epoch < 3; ++epoch) {
    data::DataLoader whole(ds, {.batch_size = 12, .shuffle = true, .seed = 9});
    whole.set_epoch(epoch);
    const auto global = epoch_of(whole);
    std::vector<std::vector<std::vector<float>>> parts;
    for (std::int64_t r = 0; r < 3; ++r) {
      data::DataLoader part(
          ds, {.batch_size = 4, .shuffle = true, .seed = 9, .num_replicas = 3, .rank = r});
      part.set_epoch(epoch);
      parts.push_back(epoch_of(part));
    }
    REQUIRE(global.size() == 4);
    std::vector<float> seen;
    for (std::size_t b = 0; b < global.size(); ++b) {
      std::vector<float> together;
      for (const auto& p : parts) together.insert(together.end(), p[b].begin(), p[b].end());
      std::vector<float> expected = global[b];
      std::sort(together.begin(), together.end());
      std::sort(expected.begin(), expected.end());
      CHECK(together == expected);
      seen.insert(seen.end(), together.begin(), together.end());
    }
    std::sort(seen.begin(), seen.end());
    std::vector<float> all(48);
    std::iota(all.begin(), all.end(), 0.0f);
    CHECK(seen == all);  // every sample exactly once per epoch
  }
}

TEST_CASE("dataloader: replicas run the installed check once, unless they are threads") {
  data::TensorDataset ds = numbered(10);
  std::vector<std::int64_t> counts;
  const data::ReplicaCheck before =
      data::set_replica_check([&](std::int64_t batches) { counts.push_back(batches); });
  data::DataLoader ranks(ds, {.batch_size = 2, .num_replicas = 2, .rank = 1});
  data::DataLoader threads(
      ds, {.batch_size = 2, .num_replicas = 2, .rank = 1, .check_replicas = false});
  data::DataLoader single(ds, {.batch_size = 2});
  for (int e = 0; e < 2; ++e) {
    epoch(ranks);
    epoch(threads);
    epoch(single);
  }
  data::set_replica_check(before);
  CHECK(counts == std::vector<std::int64_t>{3});
}
