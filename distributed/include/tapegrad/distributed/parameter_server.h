// An asynchronous parameter server (Dean et al.'s Downpour SGD, Li et al.'s parameter server):
// rank 0 holds the model and its optimizer; every other rank is a worker that pulls the current
// parameters, computes a gradient on its own batch and pushes it, and goes on without waiting for
// the other workers. The server applies each gradient as it arrives. What the workers give up is
// freshness: a gradient may have been computed on parameters that other pushes have since moved,
// by as many updates as max_staleness allows.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "tapegrad/core/tensor.h"
#include "tapegrad/nn/module.h"
#include "tapegrad/optim/optimizer.h"

namespace tapegrad::dist {

/// How stale a gradient may be.
struct ParameterServerOptions {
  /// The most updates the server may apply between a worker's pull and the update its gradient
  /// makes (-1: no bound). A pull waits until granting it cannot break the bound, so no
  /// gradient is ever dropped; 0 lets one worker compute at a time (sequential SGD spread over
  /// the workers).
  std::int64_t max_staleness = -1;
  /// A budget for the whole job (0: none): once the applied updates hold this many samples,
  /// every pull is answered "stop" (pull() returns -1), so the workers share the budget by
  /// their speed and a slow one does not hold the end up. Pushes under way when it is reached
  /// are still applied: at most one batch per other worker past it.
  std::int64_t max_samples = 0;
};

/// One update the server applied (serve()'s on_update).
struct ServerUpdate {
  int worker = 0;                  ///< the pushing rank
  std::int64_t worker_step = 0;    ///< that worker's pushes so far, this one included
  std::int64_t version = 0;        ///< updates applied so far, this one included
  std::int64_t staleness = 0;      ///< updates applied between the worker's pull and this one
  std::int64_t samples = 0;        ///< samples in the worker's batch (what it passed to push)
  std::int64_t total_samples = 0;  ///< samples of every update so far, this one's included
  double loss = 0;                 ///< the batch loss the worker passed to push
  double seconds = 0;              ///< since serve() started
};

/// What serve() returns.
struct ServerStats {
  std::int64_t updates = 0;                ///< gradients applied, every worker's
  std::vector<std::int64_t> worker_steps;  ///< per rank (rank 0, the server, has 0)
  std::int64_t samples = 0;                ///< in every applied update's batch
  std::int64_t max_staleness = 0;          ///< the largest staleness of an applied update
  double mean_staleness = 0;               ///< over the updates
  std::int64_t held_pulls = 0;             ///< pulls that had to wait for the staleness bound
  double seconds = 0;                      ///< wall time of serve()
};

/// The server and its workers. Every rank constructs it with its replica of the model; then
/// rank 0 calls serve() with its optimizer while every other rank trains:
///
///     dist::ParameterServer ps(*model);
///     if (ps.is_server()) {
///       tg::optim::Adam opt(model->parameters(), {.lr = 1e-3});
///       ps.serve(opt);                       // until every worker has finished
///       model->save("model.tg");
///     } else {
///       data::DataLoader loader(train, {.batch_size = 32, .shuffle = true, .seed = 1,
///                                       .num_replicas = ps.num_workers(),
///                                       .rank = ps.worker_index(), .check_replicas = false});
///       for (int epoch = 0; epoch < 5; ++epoch)
///         for (auto& [x, y] : loader) {
///           ps.pull();                         // the server's latest values into *model
///           model->zero_grad();
///           auto loss = nn::functional::cross_entropy((*model)(x), y);
///           loss.backward();
///           ps.push(loss.item(), x.size(0));   // the gradients to the server
///         }
///       ps.finish();                           // no more pushes from this rank
///     }
///
/// Workers may run different numbers of batches (check_replicas = false: they share no
/// collective); the server returns once each has called finish(). Buffers travel with the
/// parameters: a pull gives the worker the server's (BatchNorm's running statistics), a push
/// returns the worker's after its forward, which become the server's. A parameter without a
/// gradient is pushed as zeros. Messages are Open MPI point-to-point sends of the raw values.
/// A rank that fails ends the job through dist::Context, as in data-parallel training.
///
/// Checkpoints are the server's: a Checkpointer over its model and optimizer, stepped from
/// on_update (`ckpt.on_step({.step = u.version})`), saves both on its schedule; a resumed server
/// calls set_version(progress.step), and its workers pull the resumed values as usual.
class ParameterServer {
 public:
  /// Checks that every rank's model has the same parameters and buffers (a ValueError naming
  /// the first that differs, on every rank) and gives every rank rank 0's values. ValueError
  /// for fewer than 2 ranks or max_staleness below -1. A collective; keeps a reference to model.
  explicit ParameterServer(nn::Module& model, ParameterServerOptions options = {});
  /// Frees its communicator (MPI must still be up: destroy it before the Context).
  ~ParameterServer();
  ParameterServer(const ParameterServer&) = delete;
  ParameterServer& operator=(const ParameterServer&) = delete;

  /// True on rank 0.
  bool is_server() const { return rank_ == 0; }
  /// The number of workers: every rank but the server.
  int num_workers() const { return world_ - 1; }
  /// This worker's index in [0, num_workers()) (rank - 1), for sharding a loader; -1 on the
  /// server.
  int worker_index() const { return rank_ - 1; }

  /// Server: applies every gradient the workers push with optimizer (over model's parameters),
  /// in the order they arrive, until every worker has finished; on_update (optional) is called
  /// after each, e.g. to record a curve or save a checkpoint. StateError on a worker.
  ServerStats serve(optim::Optimizer& optimizer,
                    const std::function<void(const ServerUpdate&)>& on_update = nullptr);
  /// Server: the updates applied so far (across serve() calls).
  std::int64_t version() const { return version_; }
  /// Server: sets that count, as a server resumed at that step continues it (the Progress::step
  /// a Checkpointer saved from on_update's version). ValueError when negative.
  void set_version(std::int64_t version);

  /// Worker: waits for the server's current parameters and buffers and writes them into the
  /// model; returns their version (the updates applied so far), or -1 when the server's
  /// max_samples is spent (the model is left as it was: push no more, call finish()).
  /// StateError on the server, after a stop, or after finish().
  std::int64_t pull();
  /// Worker: sends the model's gradients and buffers, with the batch's loss and sample count,
  /// as one update computed on the last pull's values. StateError without a pull since the last
  /// push, on the server or after finish().
  void push(double loss, std::int64_t samples);
  /// Worker: tells the server it will push no more. StateError on the server or when called
  /// twice.
  void finish();

 private:
  struct Comm;  // MPI's communicator, kept out of this header

  void pack_values(unsigned char* out) const;
  void unpack_values(const unsigned char* in) const;

  nn::Module& model_;
  std::unique_ptr<Comm> comm_;
  ParameterServerOptions options_;
  int rank_ = 0, world_ = 1;
  std::vector<Tensor> params_, buffers_;
  std::size_t values_bytes_ = 0;        // every parameter's and buffer's raw bytes
  std::vector<unsigned char> message_;  // the last message sent or received, reused
  std::int64_t pulled_version_ = -1;    // -1: no pull since the last push
  std::int64_t steps_ = 0;
  std::int64_t version_ = 0;  // the server's: updates applied so far
  bool finished_ = false, stopped_ = false;
};

}  // namespace tapegrad::dist
