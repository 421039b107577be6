// Whole-run checkpoints: model under "model.", optimizer under "optim.", schedule under
// "sched.", progress and the global generator under "progress.".
#include "tapegrad/train/checkpoint.h"

#include "run_state.h"
#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/errors.h"
#include "tapegrad/nn/serialize.h"

namespace tapegrad::train {
namespace detail {

void write_run(Archive& ar, const nn::Module& model, const optim::Optimizer& opt,
               const optim::SchedulerState* schedule, Progress progress) {
  nn::save_state(model, ar);
  opt.save_state(ar);
  if (schedule) schedule->save_state(ar);
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

RunState check_run(const Archive& ar, const std::string& path, const nn::Module& model,
                   const optim::Optimizer& opt, const optim::SchedulerState* schedule) {
  // Each part is read and checked into locals or by its check_state, so a bad entry anywhere
  // leaves model, optimizer, schedule and generator as they were.
  RunState s;
  try {
    Progress& p = s.progress;
    p.epoch = ar.get_int64("progress.epoch");
    p.step = ar.get_int64("progress.step");
    // Checkpoints written before mid-epoch resume have no batch entry: an epoch boundary.
    p.batch = ar.contains("progress.batch") ? ar.get_int64("progress.batch") : 0;
    if (p.epoch < 0 || p.step < 0 || p.batch < 0)
      throw ValueError(
          msg("progress is negative: epoch ", p.epoch, ", step ", p.step, ", batch ", p.batch));
    s.rng.set_state(ar.get_text("progress.rng"));
    nn::check_state(model, ar);
    opt.check_state(ar);
    if (schedule) schedule->check_state(ar);
  } catch (const Error& e) {
    throw ValueError(name_file(path, e.what(), "load_checkpoint"));
  }
  return s;
}

void apply_run(const Archive& ar, nn::Module& model, optim::Optimizer& opt,
               optim::SchedulerState* schedule, const RunState& state) {
  nn::load_state(model, ar);
  opt.load_state(ar);
  if (schedule) schedule->load_state(ar);
  default_generator() = state.rng;
}

}  // namespace detail

void save_checkpoint(const std::string& path, const nn::Module& model, const optim::Optimizer& opt,
                     const optim::SchedulerState* schedule, Progress progress) {
  Archive ar;
  detail::write_run(ar, model, opt, schedule, progress);
  ar.save(path);
}

Progress load_checkpoint(const std::string& path, nn::Module& model, optim::Optimizer& opt,
                         optim::SchedulerState* schedule) {
  const Archive ar = Archive::load(path);
  const detail::RunState state = detail::check_run(ar, path, model, opt, schedule);
  detail::apply_run(ar, model, opt, schedule, state);
  return state.progress;
}

}  // namespace tapegrad::train
