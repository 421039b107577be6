// Hogwild! (Niu, Recht, Ré and Wright, 2011): asynchronous stochastic gradient descent on the
// threads of one process. Every worker trains on its own shard of the data with its own tape and
// its own optimizer, and adds its updates to one shared model without locks and without waiting
// for the others. What the workers give up is reproducibility: which update a worker's gradient
// saw depends on the threads' timing, so two runs differ in their last bits or more.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "tapegrad/core/tensor.h"
#include "tapegrad/data/dataset.h"
#include "tapegrad/nn/module.h"
#include "tapegrad/optim/optimizer.h"
#include "tapegrad/train/checkpointer.h"
#include "tapegrad/train/evaluate.h"

namespace tapegrad::train {

/// How a worker's update reaches a shared element that another worker changed since it read it.
/// On this project's machine (`bench_core hogwild`, B1's 101,770 parameters): a plain loop
/// costs 0.2 ns an element, LoadStore 1 ns, Add 14 ns (a locked instruction per element).
enum class HogwildUpdate {
  /// An atomic load, then an atomic store of the value plus the update: an update another
  /// worker stores between the two is overwritten (the races of the paper's own code). Rare:
  /// the two must hit one element within nanoseconds.
  LoadStore,
  /// An atomic read-modify-write (a compare-and-swap loop): the update is added to the
  /// element's current value, so no update is ever lost (the componentwise atomic addition the
  /// paper's analysis assumes), at 13 times LoadStore's cost.
  Add,
};

/// What a worker reports after each of its steps (HogwildOptions::on_step).
struct HogwildStep {
  int worker = 0;            ///< which worker, in [0, workers)
  std::int64_t epoch = 0;    ///< the worker's epoch, from 0
  std::int64_t step = 0;     ///< the worker's steps so far, this one included
  std::int64_t samples = 0;  ///< samples all workers have trained on so far, this batch included
  double seconds = 0;        ///< since hogwild() started
  double loss = 0;           ///< this batch's loss, before the step
  /// The worker's own copy of the model after this step: the shared values it read before the
  /// step with its update added. Safe to read (and clone) inside on_step, nowhere else.
  nn::Module* replica = nullptr;
};

/// hogwild()'s settings.
struct HogwildOptions {
  int workers = 2;          ///< threads, each with its own shard of the dataset (>= 1)
  std::int64_t epochs = 1;  ///< each worker trains until this many passes over its shard are done
  /// The pass each worker starts at (a run resumed from its shared model, saved after an
  /// earlier call: the shards' orders continue where they were; the workers' optimizers start
  /// afresh, as in every call). A checkpointer that resumes overrides it.
  std::int64_t start_epoch = 0;
  /// A budget shared by the workers (0: none): no worker starts a step once they have trained
  /// on this many samples together, so a fast worker takes more of it than a slow one (with
  /// epochs set high enough not to end the run first). The steps under way when it is reached
  /// finish: at most workers - 1 batches past it.
  std::int64_t max_samples = 0;
  std::int64_t batch_size = 1;  ///< samples per step of a worker (>= 1)
  bool shuffle = true;          ///< a new order of the dataset every epoch
  /// The order's seed, shared by the workers so that their shards never overlap; unset: drawn
  /// once from the global generator (manual_seed() decides it).
  std::optional<std::uint64_t> seed = std::nullopt;
  LossFn loss = nullptr;  ///< default: cross_entropy for int64 targets, mse_loss otherwise
  HogwildUpdate update = HogwildUpdate::LoadStore;  ///< how updates land (see HogwildUpdate)
  /// Called on the worker's thread after each of its steps, while the other workers go on:
  /// several calls may run at once, so what it shares needs a lock. The experiment's hook
  /// (record the loss, clone the replica at sample counts, slow one worker down).
  std::function<void(const HogwildStep&)> on_step = nullptr;
  /// A model-only Checkpointer over the shared model (null: none). hogwild() first resumes from
  /// it (when its options say resume: the shared model, the shards' order and the pass to start
  /// at), then hands it every pass all workers completed, with the pass's mean loss as the
  /// record's "loss" (so best_metric = "loss" keeps the best pass). To save a consistent model,
  /// the workers wait for each other at the end of every pass while one of them saves: the only
  /// wait hogwild has, and only with a checkpointer. A pass max_samples cut short is not saved.
  /// Its every_steps must be 0: the workers' steps have no common order to save at.
  Checkpointer* checkpointer = nullptr;
};

/// What hogwild() returns.
struct HogwildResult {
  std::int64_t samples = 0;                ///< trained on, all workers together
  std::vector<std::int64_t> worker_steps;  ///< steps each worker took
  /// Each epoch's mean training loss over every worker's batches of that epoch, from
  /// start_epoch on (each worker's epoch e is its e-th pass over its shard, whenever it
  /// happened; a pass that max_samples cut short counts with the batches it took).
  std::vector<double> epoch_loss;
  double seconds = 0;  ///< wall time of the whole run
};

/// Makes a worker's copy of the model: a model of the same architecture (the values do not
/// matter; hogwild() gives it the shared ones).
using ReplicaFactory = std::function<std::shared_ptr<nn::Module>()>;
/// Makes a worker's optimizer over the parameters of its replica.
using OptimizerFactory = std::function<std::unique_ptr<optim::Optimizer>(nn::Module& replica)>;

/// Trains model with Hogwild!: options.workers threads, worker w on the samples w, w + workers,
/// ... of each epoch's order (torch's DistributedSampler sharding), each step of a worker:
///   1. reads the shared parameters and floating buffers into its replica (relaxed atomic loads),
///   2. computes its batch's loss and the gradients with grad() (the shared model's .grad is
///      never touched) and steps its own optimizer on the replica,
///   3. adds the change its step made to the shared values, element by element, through relaxed
///      atomic operations (options.update): never a lock, never a wait for another worker.
/// Steps 1 and 3 see whatever the other workers wrote meanwhile; the language's memory model is
/// honoured (no data race: ThreadSanitizer accepts it), the result's bits are not reproducible.
/// A worker whose shared elements nobody else changed writes exactly its replica's value, so one
/// worker equals plain training with its optimizer at one thread, bit for bit.
///
/// Each worker's kernels run on its own thread (NumThreadsGuard(1)). Every worker's optimizer
/// starts fresh. An exception in a worker stops the others at their next step and is rethrown
/// here. model's integer buffers (BatchNorm's batch counts) take the workers' increments too.
///
/// ValueError, before any thread starts, for a bad option, a null factory or replica, or a
/// replica whose parameters or buffers differ from model's in name, shape or dtype.
HogwildResult hogwild(nn::Module& model, const ReplicaFactory& make_replica,
                      const OptimizerFactory& make_optimizer, const data::Dataset& dataset,
                      const HogwildOptions& options = {});

}  // namespace tapegrad::train
