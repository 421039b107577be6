// DataLoader: an epoch is an order of the sample indices, cut into batches. Shuffled orders are
// Fisher-Yates permutations from a generator seeded by (seed, epoch), so epoch e is the same
// whenever it runs, which makes resuming at an epoch boundary exact.
#include "tapegrad/data/dataloader.h"

#include <algorithm>
#include <numeric>
#include <utility>

#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/errors.h"
#include "tapegrad/core/random.h"

namespace tapegrad::data {

namespace {
ReplicaCheck& replica_check() {
  static ReplicaCheck check;
  return check;
}
}  // namespace

ReplicaCheck set_replica_check(ReplicaCheck check) {
  return std::exchange(replica_check(), std::move(check));
}

DataLoader::DataLoader(const Dataset& dataset, DataLoaderOptions o)
    : dataset_(dataset), options_(o) {
  if (o.batch_size < 1)
    throw ValueError(msg("DataLoader: batch_size must be >= 1, got ", o.batch_size));
  if (dataset.size() == 0) throw ValueError("DataLoader: the dataset is empty");
  const std::int64_t n = dataset.size(), replicas = o.num_replicas;
  if (replicas < 1 || o.rank < 0 || o.rank >= replicas)
    throw ValueError(msg("DataLoader: rank must be in [0, num_replicas) and num_replicas >= 1; ",
                         "got rank ", o.rank, " of ", replicas));
  if (o.drop_uneven && n < replicas)
    throw ValueError(msg("DataLoader: ", n, " samples cannot be shared by ", replicas,
                         " replicas with drop_uneven"));
  // Only a shuffling loader draws its seed (as torch's RandomSampler; a SequentialSampler draws
  // nothing), so an evaluation loader made before the model leaves its initialisation alone.
  seed_ = o.seed ? *o.seed : o.shuffle ? default_generator().next() : 0;
  // Each replica's share: padded up (torch's default) or cut down to a multiple of replicas.
  // (n / replicas rounded up without n + replicas - 1, which overflows for huge counts)
  const std::int64_t share = n / replicas + (!o.drop_uneven && n % replicas != 0);
  order_.resize(static_cast<std::size_t>(share));
  if (replicas == 1) {
    std::iota(order_.begin(), order_.end(), 0);
  } else {
    full_.resize(static_cast<std::size_t>(n));
    std::iota(full_.begin(), full_.end(), 0);
    deal();
    identity_ = false;
  }
  batch_ = std::min(o.batch_size, share);
}

// This replica's samples from full_: positions rank, rank + R, ... of the order, where the
// order is padded by wrapping around to its start (as torch's DistributedSampler).
void DataLoader::deal() {
  const auto n = static_cast<std::int64_t>(full_.size());
  for (std::size_t j = 0; j < order_.size(); ++j) {
    const std::int64_t pos = options_.rank + options_.num_replicas * static_cast<std::int64_t>(j);
    order_[j] = full_[static_cast<std::size_t>(pos % n)];
  }
}

std::int64_t DataLoader::num_batches() const {
  const std::int64_t n = num_samples();
  return options_.drop_last ? n / batch_ : (n + batch_ - 1) / batch_;
}

DataLoader::Iterator DataLoader::begin() {
  // Once, before the first batch: every rank reaches here at the same point of its program.
  if (options_.num_replicas > 1 && options_.check_replicas && !replicas_checked_ &&
      replica_check()) {
    replica_check()(num_batches());
    replicas_checked_ = true;
  }
  if (options_.shuffle) {
    std::vector<std::int64_t>& order = options_.num_replicas > 1 ? full_ : order_;
    std::iota(order.begin(), order.end(), 0);
    // A well-mixed per-epoch seed (splitmix64 of seed and epoch).
    std::uint64_t z = seed_ + 0x9E3779B97F4A7C15ULL * static_cast<std::uint64_t>(epoch_ + 1);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    Generator gen(z ^ (z >> 31));
    std::shuffle(order.begin(), order.end(), gen.engine());
    if (options_.num_replicas > 1) deal();
    identity_ = false;
  }
  ++epoch_;
  const std::int64_t first = first_batch_;
  first_batch_ = 0;
  return Iterator(this, first);
}

void DataLoader::set_epoch(std::int64_t epoch, std::int64_t first_batch) {
  if (epoch < 0) throw ValueError(msg("DataLoader::set_epoch: epoch must be >= 0, got ", epoch));
  if (first_batch < 0 || first_batch > num_batches())
    throw ValueError(msg("DataLoader::set_epoch: first batch ", first_batch, " is not in [0, ",
                         num_batches(), "]"));
  epoch_ = epoch;
  first_batch_ = first_batch;
}

DataLoader::Iterator DataLoader::end() { return Iterator(this, num_batches()); }

DataLoader::Iterator::Iterator(const DataLoader* loader, std::int64_t next)
    : loader_(loader), next_(next) {
  if (next_ < loader_->num_batches()) load();
}

DataLoader::Iterator& DataLoader::Iterator::operator++() {
  ++next_;
  if (next_ < loader_->num_batches()) load();
  return *this;
}

void DataLoader::Iterator::load() {
  const std::int64_t n = loader_->num_samples(), b = next_ * loader_->batch_;
  const std::int64_t e = std::min(n, b + loader_->batch_);
  if (b == 0 && e == n && loader_->identity_) {  // the whole set in order: no copy at all
    batch_ = loader_->dataset_.all();
    return;
  }
  batch_ = loader_->dataset_.get_batch(
      std::vector<std::int64_t>(loader_->order_.begin() + b, loader_->order_.begin() + e));
}

}  // namespace tapegrad::data
