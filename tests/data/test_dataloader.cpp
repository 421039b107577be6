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
