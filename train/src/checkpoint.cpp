// Whole-run checkpoints: model under "model.", optimizer under "optim.", schedule under
// "sched.", progress and the global generator under "progress.".
#include "tapegrad/train/checkpoint.h"

#include "run_state.h"
#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/errors.h"
#include "tapegrad/nn/serialize.h"

namespace tapegrad::train {
namespace detail {

void write_run(Archive& ar, const nn::Module& model, const optim::Optimizer* opt,
               const optim::SchedulerState* schedule, Progress progress) {
  nn::save_state(model, ar);
  if (opt) opt->save_state(ar);
  if (schedule) schedule->save_state(ar, "sched.");
  auto int64 = [](std::int64_t v) {
    return scalar_tensor(static_cast<double>(v), {.dtype = kInt64});
  };
  ar.put("progress.epoch", int64(progress.epoch));
  ar.put("progress.step", int64(progress.step));
  ar.put("progress.batch", int64(progress.batch));
  ar.put_text("progress.rng", default_generator().state());
}

std::string name_file(const std::string& path, const std::string& what, const char* op) {
  return what.find(path) == std::string::npos ? msg(op, ": ", path, ": ", what)
                                              : msg(op, ": ", what);
}

LoadedRun read_run(const Archive& ar, const std::string& path, const nn::Module& model,
                   const optim::Optimizer* opt, const optim::SchedulerState* schedule) {
  // Each piece is read and checked into the result, so a bad entry anywhere leaves model,
  // optimizer, schedule and generator as they were.
  LoadedRun run;
  try {
    Progress& p = run.progress;
    p.epoch = ar.get_int64("progress.epoch");
    p.step = ar.get_int64("progress.step");
    // Checkpoints written before mid-epoch resume have no batch entry: an epoch boundary.
    p.batch = ar.contains("progress.batch") ? ar.get_int64("progress.batch") : 0;
    if (p.epoch < 0 || p.step < 0 || p.batch < 0)
      throw ValueError(
          msg("progress is negative: epoch ", p.epoch, ", step ", p.step, ", batch ", p.batch));
    run.rng.set_state(ar.get_text("progress.rng"));
    run.model = nn::read_state(model, ar);
    if (opt) run.optimizer = opt->read_state(ar);
    if (schedule) run.schedule = schedule->read_state(ar, "sched.");
  } catch (const Error& e) {
    throw ValueError(name_file(path, e.what(), "load_checkpoint"));
  }
  return run;
}

void apply_run(LoadedRun& run, nn::Module& model, optim::Optimizer* opt,
               optim::SchedulerState* schedule) {
  nn::apply_state(model, run.model);
  if (opt) opt->apply_state(*run.optimizer);
  if (schedule) schedule->apply_state(*run.schedule);
  default_generator() = run.rng;
}

}  // namespace detail

void save_checkpoint(const std::string& path, const nn::Module& model, const optim::Optimizer& opt,
                     const optim::SchedulerState* schedule, Progress progress) {
  Archive ar;
  detail::write_run(ar, model, &opt, schedule, progress);
  ar.save(path);
}

Progress load_checkpoint(const std::string& path, nn::Module& model, optim::Optimizer& opt,
                         optim::SchedulerState* schedule) {
  const Archive ar = Archive::load(path);
  detail::LoadedRun run = detail::read_run(ar, path, model, &opt, schedule);
  detail::apply_run(run, model, &opt, schedule);
  return run.progress;
}

}  // namespace tapegrad::train
