// DistributedDataParallel: one model replica per rank, gradients averaged after every backward,
// so that N ranks with batches of B take the same steps as one process with batches of N * B.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tapegrad/nn/module.h"

namespace tapegrad::dist {

/// How DistributedDataParallel reduces gradients and shares buffers.
struct DDPOptions {
  /// Gradients are packed into buckets of about this many megabytes (torch's default 25) and
  /// reduced bucket by bucket: each with a non-blocking MPI_Iallreduce as soon as backward has
  /// completed it, the last with a blocking MPI_Allreduce at the end of backward.
  double bucket_mb = 25;
  /// Before every forward in training mode, rank 0's buffers (BatchNorm's running statistics)
  /// replace the others', as torch's broadcast_buffers: every rank then evaluates alike.
  bool broadcast_buffers = true;
};

/// What the reductions so far did (torch's DDP logging data, in brief).
struct DDPStats {
  std::int64_t reductions = 0;             ///< gradient averagings (one per synchronised backward)
  std::int64_t buckets_started_early = 0;  ///< buckets whose allreduce began during backward
  std::int64_t buckets_started_late = 0;   ///< buckets begun at its end (the last, unused ones)
  double sync_seconds = 0;  ///< time at the end of backward: the rest started, waited, unpacked
};

/// Data-parallel training (torch's DistributedDataParallel): wraps one model replica per rank
/// and averages its gradients across the ranks in every backward().
class DistributedDataParallel : public nn::Module {
 public:
  /// Checks that every rank's model has the same parameter and buffer names, shapes and dtypes
  /// (a ValueError naming the first that differs, on every rank), then broadcasts rank 0's
  /// parameters and buffers. From then on every backward() that reaches the parameters averages
  /// their gradients across ranks before returning: a bucket's reduction starts as soon as backward
  /// has completed every gradient in it (buckets start in a fixed order, the same on every
  /// rank), so it overlaps the rest of backward, and backward() waits for all of them at its
  /// end. Parameters the pass does not reach contribute zeros. From the first reduction on,
  /// each parameter's gradient is a view into its bucket (torch's gradient_as_bucket_view), so
  /// backward accumulates where the reduction reads and nothing is copied; a gradient replaced
  /// since (set_grad) is copied in and replaced by the view again, and one in a graph
  /// (create_graph) keeps its identity and is copied both ways. A backward that throws waits
  /// for the reductions it started (so nothing writes into the gradients later; their values
  /// are then the pass's partial sums: zero them) and the next backward starts a new round.
  explicit DistributedDataParallel(std::shared_ptr<nn::Module> module, DDPOptions options = {});
  ~DistributedDataParallel() override;

  /// In training mode with broadcast_buffers, rank 0's buffers first; then the module's forward.
  Tensor forward(const Tensor& x) override;
  /// The wrapped model.
  nn::Module& module() { return *module_; }

  /// While the guard lives, backward() leaves gradients local (gradient accumulation over
  /// micro-batches); the first backward after it reduces the accumulated sums.
  class NoSync {
   public:
    /// Stops ddp's reductions until the guard is destroyed.
    explicit NoSync(DistributedDataParallel& ddp) : ddp_(ddp) { ddp_.sync_ = false; }
    ~NoSync() { ddp_.sync_ = true; }
    NoSync(const NoSync&) = delete;
    NoSync& operator=(const NoSync&) = delete;

   private:
    DistributedDataParallel& ddp_;
  };
  /// A NoSync guard for this model: `{ auto guard = ddp.no_sync(); ...backward()... }`.
  NoSync no_sync() { return NoSync(*this); }

  /// Averages the gradients now: starts every bucket not yet started, waits for all, and
  /// writes the averages back (what the end of a backward() that reached the parameters does).
  void synchronize();
  /// The buckets' sizes in elements, in reduction order (the last parameters first, as their
  /// gradients are ready first).
  std::vector<std::int64_t> bucket_sizes() const;
  /// What the reductions so far did.
  const DDPStats& stats() const { return stats_; }

 private:
  struct Bucket;
  void on_gradient_ready(std::size_t param);
  void start(Bucket& b, bool blocking);
  void reset_round();
  void abandon_round();

  std::shared_ptr<nn::Module> module_;
  std::vector<Tensor> params_;
  std::vector<Tensor> buffers_;
  bool broadcast_buffers_;
  std::vector<Bucket> buckets_;
  std::vector<std::size_t> bucket_of_;  // per parameter
  std::vector<char> ready_;             // per parameter: its gradient is complete this pass
  std::vector<int> grad_hooks_;         // per parameter
  std::size_t next_bucket_ = 0;         // buckets start in order: the same on every rank
  bool sync_ = true;
  int hook_ = -1;
  int error_hook_ = -1;
  DDPStats stats_;
};

}  // namespace tapegrad::dist
