// DataLoader: batches from a Dataset, in order or shuffled. batch_size = the dataset size
// (kFullBatch) is batch gradient descent, 1 is stochastic gradient descent, anything between
// is mini-batch.
#pragma once
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <vector>

#include "tapegrad/data/dataset.h"

namespace tapegrad::data {

/// A batch size that means "the whole dataset".
inline constexpr std::int64_t kFullBatch = std::numeric_limits<std::int64_t>::max();

/// How a DataLoader batches and orders a dataset (and shards it for data-parallel training).
struct DataLoaderOptions {
  std::int64_t batch_size = 1;  ///< samples per batch (>= 1; kFullBatch: the whole dataset)
  bool shuffle = false;         ///< a new random order every epoch (else the dataset's order)
  bool drop_last = false;       ///< skip a last batch smaller than batch_size
  /// Shuffling seed; epoch e's order depends only on (seed, e). Unset: a shuffling loader
  /// draws it once from the global generator (so manual_seed() decides it); one that does not
  /// shuffle draws nothing.
  std::optional<std::uint64_t> seed = std::nullopt;
  /// Data-parallel training (torch's DistributedSampler): the loader of replica `rank` out of
  /// `num_replicas` yields every num_replicas-th sample of the epoch's order, starting at
  /// `rank`, so that in each step the replicas' batches together are one global batch of
  /// batch_size * num_replicas in the single-process order. Every replica must use the same
  /// seed. When the samples do not divide evenly, the order is padded by repeating its first
  /// samples (torch's default), or its tail is dropped with drop_uneven.
  std::int64_t num_replicas = 1;
  std::int64_t rank = 0;  ///< this replica's index, in [0, num_replicas)
  /// Drop the tail of the order that does not divide evenly, instead of padding it.
  bool drop_uneven = false;
  /// Run the installed ReplicaCheck (below) before the first epoch. False for replicas that are
  /// threads of one process (Hogwild's workers), which run their own counts of batches and share
  /// no collective.
  bool check_replicas = true;
};

/// How the replicas of a sharded loader (num_replicas > 1) agree that they run the same number
/// of batches an epoch: called with this replica's count on every rank, before its first batch,
/// it throws when the ranks' counts differ. A rank that ran out while another still reduced
/// gradients would leave that one waiting forever; DistributedDataParallel's data-parallel
/// training needs every rank to take the same steps. tapegrad::dist::Context installs an
/// MPI check while it lives; without one (a single process) nothing is checked.
using ReplicaCheck = std::function<void(std::int64_t batches_per_epoch)>;
/// Installs check for every loader's first epoch (empty: none); returns the previous one.
ReplicaCheck set_replica_check(ReplicaCheck check);

/// Batches from a Dataset, in order or shuffled, as a range: for (auto& [x, y] : loader).
/// ValueError for a batch size below 1, an empty dataset or a bad rank.
class DataLoader {
 public:
  /// Keeps a reference to dataset, which must outlive the loader.
  DataLoader(const Dataset& dataset, DataLoaderOptions options = {});
  /// A temporary dataset would be destroyed before the first batch: name it first
  /// (auto train = data::MNIST(...); DataLoader loader(train, ...)).
  DataLoader(const Dataset&& dataset, DataLoaderOptions options = {}) = delete;

  /// Walks one epoch's batches (what range-for uses).
  class Iterator {
   public:
    /// The current batch (inputs, targets).
    Batch& operator*() { return batch_; }
    /// Loads the next batch.
    Iterator& operator++();
    /// True while the two are at different batches.
    bool operator!=(const Iterator& o) const { return next_ != o.next_; }

   private:
    friend class DataLoader;
    Iterator(const DataLoader* loader, std::int64_t next);
    void load();
    const DataLoader* loader_;
    std::int64_t next_;  // index of the batch to load next
    Batch batch_;
  };

  /// Starts an epoch: a new order when shuffling (epoch counter advances each call).
  Iterator begin();
  /// The position past the last batch.
  Iterator end();
  /// Batches per epoch: num_samples() / batch_size() rounded up, or down with drop_last.
  std::int64_t num_batches() const;
  /// The batch size in effect: the option's, capped at num_samples().
  std::int64_t batch_size() const { return batch_; }
  /// Samples this loader yields in an epoch (this replica's share, padding included).
  std::int64_t num_samples() const { return static_cast<std::int64_t>(order_.size()); }
  /// The epoch the next begin() starts, and the batch it starts at (resuming a run; later
  /// epochs start at batch 0). ValueError when epoch < 0 or first_batch is past num_batches().
  void set_epoch(std::int64_t epoch, std::int64_t first_batch = 0);
  /// The epoch the next begin() starts (begin() advances it).
  std::int64_t epoch() const { return epoch_; }
  /// The shuffling seed (set or drawn), which with the epoch decides the order.
  std::uint64_t seed() const { return seed_; }
  /// Sets the shuffling seed; orders from the next begin() on follow it.
  void set_seed(std::uint64_t seed) { seed_ = seed; }

 private:
  void deal();
  bool replicas_checked_ = false;

  const Dataset& dataset_;
  DataLoaderOptions options_;
  std::int64_t batch_;
  std::uint64_t seed_;
  std::int64_t epoch_ = 0;
  std::int64_t first_batch_ = 0;     // where the next begin() starts
  std::vector<std::int64_t> order_;  // this replica's samples in the epoch's order
  std::vector<std::int64_t> full_;   // with replicas: the whole epoch's order
  bool identity_ = true;             // order_ is 0..n-1 (the whole dataset, in order)
};

}  // namespace tapegrad::data
