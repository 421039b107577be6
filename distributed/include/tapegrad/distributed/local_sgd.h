// Local SGD (torch's PeriodicModelAverager, the averaging half of post-local SGD): each rank
// trains its own replica on its own batches without reducing gradients, and every few steps
// the ranks average their parameters. The ranks meet once a period instead of once a step (less
// communication, and one rank's delays even out over the period); what they give up is that
// between averagings the replicas drift apart.
#pragma once
#include <cstdint>
#include <vector>

#include "tapegrad/core/tensor.h"
#include "tapegrad/nn/module.h"
#include "tapegrad/optim/optimizer.h"

namespace tapegrad::dist {

/// How often LocalSGD averages, and what.
struct LocalSGDOptions {
  /// Optimizer steps between averagings: the replicas average after steps period, 2 period, ...
  /// (1: after every step, which with plain SGD is DistributedDataParallel's step to rounding).
  std::int64_t period = 4;
  /// Also average the optimizer's per-parameter buffers (momentum, Adam's moments), so that
  /// every replica continues from the same state. Step counts, per-parameter scalars and state
  /// kept elsewhere (LBFGS's history) stay each rank's own.
  bool average_optimizer_state = false;
};

/// Periodic parameter averaging across the ranks. Construct it after the optimizer, then call
/// step() after every optimizer step:
///
///     dist::LocalSGD local(*model, opt, {.period = 4});
///     for (auto& [x, y] : loader) {            // a sharded loader: each rank its own batches
///       opt.zero_grad();
///       loss(model, x, y).backward();
///       opt.step();
///       local.step();                          // every 4th call averages
///     }
///
/// What is averaged: the parameters, the model's floating-point buffers (BatchNorm's running
/// statistics) and, with average_optimizer_state, the optimizer's buffers, packed into one
/// flat buffer per dtype for one MPI_Allreduce each; every rank gets the same sums from MPI.
class LocalSGD {
 public:
  /// Checks that every rank's model has the same parameters (a ValueError naming the first
  /// that differs, on every rank), then makes rank 0's parameters and buffers every rank's.
  /// Keeps references: model and optimizer must outlive it. A collective.
  LocalSGD(nn::Module& model, optim::Optimizer& optimizer, LocalSGDOptions options = {});

  /// Counts one optimizer step and averages when the count is a multiple of the period. True
  /// when it averaged. A collective: every rank calls it once per step.
  bool step();
  /// Averages now, whatever the count (before evaluating or saving mid-period, say).
  void average();
  /// Optimizer steps counted so far.
  std::int64_t steps() const { return steps_; }
  /// Sets the count, as a run resumed at that step continues it (Checkpointer's Progress::step).
  void set_steps(std::int64_t steps);
  /// Averagings so far.
  std::int64_t averagings() const { return averagings_; }

 private:
  std::vector<Tensor> averaged() const;

  nn::Module& model_;
  optim::Optimizer& optimizer_;
  LocalSGDOptions options_;
  std::vector<Tensor> params_, model_buffers_;
  Tensor flat_[2];  // float32 and float64 values packed, kept from one averaging to the next
  std::int64_t steps_ = 0, averagings_ = 0;
};

}  // namespace tapegrad::dist
