// ZeroRedundancyOptimizer: ZeRO stage 1 (torch.distributed.optim.ZeroRedundancyOptimizer). Each
// rank keeps optimizer state for, and updates, only its share of the parameters; the updated
// shares are then all-gathered, so every rank ends each step with every parameter.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tapegrad/core/io/archive.h"
#include "tapegrad/optim/optimizer.h"

namespace tapegrad::dist {

/// An elementwise optimizer (SGD, Adam and the rest but LBFGS) sharded across the ranks: with
/// R ranks, each holds the state of and computes the update for about 1/R of the parameters'
/// elements, which is what it saves (optimizer memory and step time). Use it after the
/// gradients are averaged, as DistributedDataParallel leaves them; it takes the steps the
/// optimizer itself would take on every rank, to the bit.
///
/// The parameters are moved into one buffer (each keeps its identity, shape and values, as
/// set_data does), cut into R equal, contiguous shards; rank r's shard covers pieces of one or
/// more parameters, and `make` builds the optimizer over those pieces (1-D tensors that share the
/// parameters' elements and their gradients'). step() runs it, then one in-place MPI_Allgather
/// of the buffer hands every rank the others' updates.
///
/// Schedules, clipping and zero_grad work on it as on any optimizer: its lr (and cycled
/// momentum) are the shard optimizer's, set alike on every rank. It has one parameter group
/// (per-layer options would need the shard optimizer's groups cut along the shards). Checkpoints
/// hold what the unsharded optimizer would hold: consolidate_state() gathers the shards' state onto
/// one rank (a collective, as torch's consolidate_state_dict), whose save_state then writes it;
/// every rank loads such a checkpoint (or the unsharded optimizer's own) and keeps its pieces.
class ZeroRedundancyOptimizer : public optim::Optimizer {
 public:
  /// Builds the optimizer over a rank's shard (as `std::make_unique<optim::Adam>(shard, opts)`).
  using Factory = std::function<std::unique_ptr<optim::Optimizer>(const optim::NamedParams&)>;

  /// A collective: every rank passes the same parameters (checked: names, shapes, dtypes; a
  /// ValueError naming the first that differs, on every rank). The parameters must share one
  /// floating dtype; make must return an elementwise optimizer over exactly the pieces it is
  /// given (else ValueError). Make the optimizer after the model has its final dtype: a
  /// parameter given new data later (Module::to, set_data) is refused by step().
  ZeroRedundancyOptimizer(const optim::NamedParams& params, const Factory& make);
  /// The same for parameters without names ("0", "1", ... as an optimizer names them).
  ZeroRedundancyOptimizer(const std::vector<Tensor>& params, const Factory& make);

  /// Updates this rank's shard from the parameters' gradients (a parameter without a gradient is
  /// skipped, as every optimizer does), then gathers every shard on every rank. A collective.
  void step() override;
  using Optimizer::step;
  /// "ZeroRedundancyOptimizer".
  std::string name() const override { return "ZeroRedundancyOptimizer"; }
  const char* cycled_momentum() const override { return local_->cycled_momentum(); }

  /// The optimizer over this rank's shard.
  optim::Optimizer& shard_optimizer() { return *local_; }
  /// This rank's pieces, in the order the shard optimizer holds them.
  const optim::NamedParams& shard() const { return shard_; }

  /// A collective: gathers every rank's shard of the optimizer state onto rank `to`, in the
  /// unsharded optimizer's form (each parameter's step count, buffers in its shape, scalars).
  /// Call it on every rank after the step whose state a checkpoint is to keep (with
  /// train::Checkpointer, before the steps it saves at). ValueError for a rank that is not one.
  void consolidate_state(int to = 0);
  /// On the rank consolidate_state() gathered onto, with no step since: writes what the
  /// unsharded optimizer would (its type name, the group's lr, initial lr and cycled momentum,
  /// every parameter's state), so the checkpoint loads into it as well as into a
  /// ZeroRedundancyOptimizer on any number of ranks. Anywhere else, StateError naming the call
  /// to make first.
  void save_state(Archive& ar, const std::string& prefix = "optim.") const override;
  /// Reads the unsharded optimizer's entries (as save_state, or that optimizer itself, wrote
  /// them), checked in full by an optimizer the factory makes over all the parameters, and
  /// keeps this rank's pieces; nothing is changed on a ValueError. Not a collective: every rank
  /// reads the same checkpoint, and holds the whole unsharded state while it does (as torch's
  /// load_state_dict).
  std::unique_ptr<LoadedState> read_state(const Archive& ar,
                                          const std::string& prefix = "optim.") const override;
  void apply_state(LoadedState& state) override;

 protected:
  double group_lr(std::size_t group) const override;
  void put_group_lr(std::size_t group, double lr) override;
  double group_momentum(std::size_t group) const override;
  void check_group_momentum(std::size_t group, double m) const override;
  void put_group_momentum(std::size_t group, double m) override;

 private:
  struct Piece {
    std::size_t param;        // index into params()
    std::int64_t begin, end;  // the elements of the parameter it covers
    Tensor grad_source;       // the gradient its own gradient is a view of
  };
  struct Loaded;
  Factory make_;
  optim::NamedParams named_;  // the parameters, as given
  std::int64_t steps_ = 0;    // step() calls, to tell a stale consolidation
  std::int64_t consolidated_at_ = -1;
  std::unique_ptr<Archive> consolidated_;  // "state." entries, on the rank gathered onto
  std::vector<std::int64_t> offsets_;      // per parameter: where it starts in flat_
  Tensor flat_;                            // every parameter's elements, padded to R equal shards
  std::vector<Tensor> places_;  // per parameter: its place in flat_ (what it must still hold)
  optim::NamedParams shard_;
  std::vector<Piece> pieces_;
  std::int64_t shard_size_ = 0;
  std::unique_ptr<optim::Optimizer> local_;
};

}  // namespace tapegrad::dist
