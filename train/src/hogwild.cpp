// Hogwild!: the workers, and the two places they touch the shared model (a read before each
// step, an update after it), both element by element through std::atomic_ref.
#include "tapegrad/train/hogwild.h"

#include <atomic>
#include <barrier>
#include <chrono>
#include <cstring>
#include <exception>
#include <mutex>
#include <string>
#include <thread>

#include "hogwild_update.h"
#include "tapegrad/core/autograd/grad.h"
#include "tapegrad/core/autograd/tape.h"
#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/errors.h"
#include "tapegrad/core/runtime/parallel.h"
#include "tapegrad/data/dataloader.h"

namespace tapegrad::train {
namespace {
using Clock = std::chrono::steady_clock;

// One tensor the workers share: the model's, the worker's replica of it, and the replica's
// values as read before the step.
struct Shared {
  std::string name;
  Tensor model, replica, was;
};

// Calls f with the element type of t as a typed null pointer.
template <typename F>
void typed(const Tensor& t, F f) {
  switch (t.dtype()) {
    case Dtype::Float32: return f(static_cast<float*>(nullptr));
    case Dtype::Float64: return f(static_cast<double*>(nullptr));
    case Dtype::Int64: return f(static_cast<std::int64_t*>(nullptr));
  }
}

// The model's parameters and buffers beside the replica's, checked alike by name, shape and
// dtype.
std::vector<Shared> pair_up(const nn::Module& model, nn::Module& replica) {
  auto named = [](const nn::Module& m) {
    auto all = m.named_parameters();
    for (auto& b : m.named_buffers()) all.push_back(std::move(b));
    return all;
  };
  const auto mine = named(model), theirs = named(replica);
  if (mine.size() != theirs.size())
    throw ValueError(msg("hogwild: the replica has ", theirs.size(),
                         " parameters and buffers, the model ", mine.size()));
  std::vector<Shared> out;
  for (std::size_t i = 0; i < mine.size(); ++i) {
    const auto& [name, t] = mine[i];
    const auto& [rname, r] = theirs[i];
    if (name != rname || t.shape() != r.shape() || t.dtype() != r.dtype())
      throw ValueError(msg("hogwild: the replica's '", rname, "' ", shape_str(r.shape()), " ",
                           dtype_name(r.dtype()), " is not the model's '", name, "' ",
                           shape_str(t.shape()), " ", dtype_name(t.dtype())));
    if (r.is_same(t))
      throw ValueError(msg("hogwild: the replica's '", rname,
                           "' is the model's own tensor: a replica needs tensors of its own"));
    out.push_back({name, t, r, empty(t.shape(), {.dtype = t.dtype()})});
  }
  return out;
}

struct Run;

// The end of a pass with a checkpointer: run once by the last worker to arrive, while the
// others wait, so the shared model holds still while it is saved.
struct SavePass {
  Run* run;
  void operator()() noexcept;
};

// What the workers share besides the model: progress counters and the first error.
struct Run {
  Run(const data::Dataset& d, const HogwildOptions& o, std::uint64_t s, std::int64_t first_epoch,
      std::int64_t first_step)
      : dataset(d), options(o), seed(s), start_epoch(first_epoch), step0(first_step) {
    if (o.checkpointer)
      pass_end = std::make_unique<std::barrier<SavePass>>(o.workers, SavePass{this});
  }

  void fail(std::exception_ptr e) {
    const std::lock_guard lock(mutex);
    if (!error) error = std::move(e);
    failed.store(true, std::memory_order_relaxed);
  }

  const data::Dataset& dataset;
  const HogwildOptions& options;
  std::uint64_t seed;
  std::int64_t start_epoch;
  std::int64_t step0;  // steps before this call (a resumed run's)
  Clock::time_point start = Clock::now();
  std::atomic<std::int64_t> samples{0}, steps{0};
  std::atomic<bool> failed{false};
  std::mutex mutex;  // guards error and the per-epoch vectors
  std::exception_ptr error;
  std::vector<double> loss_sum;  // per epoch, grown as the first worker ends each
  std::vector<std::int64_t> loss_count;
  std::vector<int> completed;  // per epoch: workers that finished the whole pass
  std::unique_ptr<std::barrier<SavePass>> pass_end;  // with a checkpointer only
  std::int64_t next_pass = 0;  // passes ended, from start_epoch; SavePass's alone
};

void SavePass::operator()() noexcept {
  Run& r = *run;
  const std::int64_t epoch = r.start_epoch + r.next_pass;
  const auto e = static_cast<std::size_t>(r.next_pass++);
  // Also run when the last workers leave after their last pass: nothing was completed then.
  if (r.failed.load(std::memory_order_relaxed) || e >= r.completed.size() ||
      r.completed[e] < r.options.workers)
    return;
  try {
    r.options.checkpointer->on_epoch(
        {.epoch = epoch + 1, .step = r.step0 + r.steps.load(), .batch = 0},
        Record{{"loss", r.loss_sum[e] / static_cast<double>(r.loss_count[e])}});
  } catch (...) {
    r.fail(std::current_exception());
  }
}

struct Worker {
  int index = 0;
  std::shared_ptr<nn::Module> replica;
  std::unique_ptr<optim::Optimizer> optimizer;
  std::vector<Shared> shared;
  std::vector<Tensor> trainable;  // the replica's parameters that require grad
  std::int64_t steps = 0;
};

void pull(Worker& w) {
  for (Shared& s : w.shared)
    typed(s.model, [&]<typename T>(T*) {
      detail::read_shared(s.model.data<T>(), s.was.data<T>(), s.model.numel());
      std::memcpy(s.replica.data<T>(), s.was.data<T>(), sizeof(T) * s.model.numel());
    });
}

void push(Worker& w, HogwildUpdate how) {
  for (Shared& s : w.shared)
    typed(s.model, [&]<typename T>(T*) {
      detail::publish(s.model.data<T>(), s.was.data<T>(), s.replica.data<T>(), s.model.numel(),
                      how);
    });
}

void train_worker(Run& run, Worker& w) {
  const NumThreadsGuard one_thread(1);
  const HogwildOptions& o = run.options;
  data::DataLoader loader(run.dataset, {.batch_size = o.batch_size,
                                        .shuffle = o.shuffle,
                                        .seed = run.seed,
                                        .num_replicas = o.workers,
                                        .rank = w.index,
                                        .check_replicas = false});
  auto budget_spent = [&] {
    return o.max_samples > 0 && run.samples.load(std::memory_order_relaxed) >= o.max_samples;
  };
  bool stop = false;
  loader.set_epoch(run.start_epoch);
  for (std::int64_t epoch = run.start_epoch; epoch < o.epochs && !stop; ++epoch) {
    double sum = 0;
    std::int64_t count = 0;
    for (const data::Batch& batch : loader) {
      // Named, not bound: clang cannot capture a structured binding where OpenMP is on.
      const Tensor &x = batch.first, &y = batch.second;
      if (run.failed.load(std::memory_order_relaxed) || budget_spent()) {
        stop = true;
        break;
      }
      pull(w);
      double loss = 0;
      w.optimizer->step([&] {
        const Tensor out = (*w.replica)(x);
        Tensor l = o.loss ? o.loss(out, y) : default_loss(out, y);
        const std::vector<Tensor> g = grad({l}, w.trainable, {}, false, true);
        for (std::size_t i = 0; i < g.size(); ++i) w.trainable[i].set_grad(g[i]);
        loss = l.item();
        return l;
      });
      push(w, o.update);
      const std::int64_t n = x.size(0);
      sum += loss * static_cast<double>(n);
      count += n;
      ++w.steps;
      run.steps.fetch_add(1, std::memory_order_relaxed);
      const std::int64_t seen = run.samples.fetch_add(n, std::memory_order_relaxed) + n;
      if (o.on_step)
        o.on_step({.worker = w.index,
                   .epoch = epoch,
                   .step = w.steps,
                   .samples = seen,
                   .seconds = std::chrono::duration<double>(Clock::now() - run.start).count(),
                   .loss = loss,
                   .replica = w.replica.get()});
    }
    if (count > 0) {
      const std::lock_guard lock(run.mutex);
      const auto e = static_cast<std::size_t>(epoch - run.start_epoch);
      if (run.loss_sum.size() <= e) {
        run.loss_sum.resize(e + 1, 0.0);
        run.loss_count.resize(e + 1, 0);
        run.completed.resize(e + 1, 0);
      }
      run.loss_sum[e] += sum;
      run.loss_count[e] += count;
      if (!stop) ++run.completed[e];
    }
    // A worker that stops arrives by leaving (hogwild's arrive_and_drop).
    if (!stop && run.pass_end) run.pass_end->arrive_and_wait();
  }
}

}  // namespace

HogwildResult hogwild(nn::Module& model, const ReplicaFactory& make_replica,
                      const OptimizerFactory& make_optimizer, const data::Dataset& dataset,
                      const HogwildOptions& options) {
  const HogwildOptions& o = options;
  if (o.workers < 1) throw ValueError(msg("hogwild: workers must be >= 1, got ", o.workers));
  if (o.epochs < 0) throw ValueError(msg("hogwild: epochs must be >= 0, got ", o.epochs));
  if (o.start_epoch < 0)
    throw ValueError(msg("hogwild: start_epoch must be >= 0, got ", o.start_epoch));
  if (o.max_samples < 0)
    throw ValueError(msg("hogwild: max_samples must be >= 0, got ", o.max_samples));
  if (o.batch_size < 1)
    throw ValueError(msg("hogwild: batch_size must be >= 1, got ", o.batch_size));
  if (!make_replica || !make_optimizer)
    throw ValueError("hogwild: a replica or optimizer factory is empty");
  if (const Checkpointer* c = o.checkpointer) {
    if (!c->model_only())
      throw ValueError(
          "hogwild: the checkpointer must be model-only (Checkpointer(model, options)): the "
          "workers' optimizers are their own");
    if (&c->model() != &model)
      throw ValueError("hogwild: the checkpointer saves another model than the shared one");
    if (c->options().every_steps != 0)
      throw ValueError(msg("hogwild: the checkpointer's every_steps must be 0, got ",
                           c->options().every_steps, ": it saves at the ends of passes only"));
  }
  // The loaders' own checks (an empty dataset, more workers than samples) before any thread,
  // and the seed every shard must share, drawn as a loader draws it.
  data::DataLoader first(dataset, {.batch_size = o.batch_size,
                                   .shuffle = o.shuffle,
                                   .seed = o.seed,
                                   .num_replicas = o.workers,
                                   .check_replicas = false});
  std::vector<Worker> workers(static_cast<std::size_t>(o.workers));
  for (int i = 0; i < o.workers; ++i) {
    Worker& w = workers[static_cast<std::size_t>(i)];
    w.index = i;
    w.replica = make_replica();
    if (!w.replica) throw ValueError("hogwild: the replica factory returned null");
    w.shared = pair_up(model, *w.replica);
    for (int k = 0; k < i; ++k)
      for (std::size_t j = 0; j < w.shared.size(); ++j)
        if (w.shared[j].replica.is_same(workers[static_cast<std::size_t>(k)].shared[j].replica))
          throw ValueError(msg("hogwild: workers ", k, " and ", i, " share the replica's '",
                               w.shared[j].name, "': each worker needs a replica of its own"));
    for (const Tensor& p : w.replica->parameters())
      if (p.requires_grad()) w.trainable.push_back(p);
    w.optimizer = make_optimizer(*w.replica);
    if (!w.optimizer) throw ValueError("hogwild: the optimizer factory returned null");
  }

  // Resumed last, once everything else is known to be good: the shared model, the shards'
  // seed (in first) and the pass to start at.
  std::int64_t start_epoch = o.start_epoch, step0 = 0;
  Checkpointer* const ckpt = o.checkpointer;
  struct Detach {
    Checkpointer* c;
    ~Detach() {
      if (c) c->detach_loader();
    }
  } const detach{ckpt};
  if (ckpt)
    if (const std::optional<Progress> p = ckpt->begin(first, /*epoch_ends_only=*/true)) {
      start_epoch = p->epoch;
      step0 = p->step;
    }

  Run run(dataset, o, first.seed(), start_epoch, step0);
  {
    std::vector<std::jthread> threads;
    for (Worker& w : workers)
      threads.emplace_back([&run, &w] {
        try {
          train_worker(run, w);
        } catch (...) {
          run.fail(std::current_exception());
        }
        // Leaving lets the others past every later pass end without this worker.
        if (run.pass_end) run.pass_end->arrive_and_drop();
      });
  }
  if (run.error) std::rethrow_exception(run.error);

  HogwildResult result;
  result.seconds = std::chrono::duration<double>(Clock::now() - run.start).count();
  result.samples = run.samples.load();
  for (const Worker& w : workers) result.worker_steps.push_back(w.steps);
  for (std::size_t e = 0; e < run.loss_sum.size(); ++e)
    result.epoch_loss.push_back(
        run.loss_count[e] > 0 ? run.loss_sum[e] / static_cast<double>(run.loss_count[e]) : 0.0);
  return result;
}

}  // namespace tapegrad::train
