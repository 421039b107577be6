// Whole-run checkpoints: model under "model.", optimizer under "optim.", schedule under
// "sched.", progress and the global generator under "progress.".
#include "tapegrad/optim/checkpoint.h"

#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/errors.h"
#include "tapegrad/core/random.h"
#include "tapegrad/nn/serialize.h"

namespace tapegrad::optim {

void save_checkpoint(const std::string& path, const nn::Module& model, const Optimizer& opt,
                     const SchedulerState* schedule, Progress progress) {
  Archive ar;
  nn::save_state(model, ar);
  opt.save_state(ar);
  if (schedule) schedule->save_state(ar);
  ar.put("progress.epoch", scalar_tensor(static_cast<double>(progress.epoch), {.dtype = kInt64}));
  ar.put("progress.step", scalar_tensor(static_cast<double>(progress.step), {.dtype = kInt64}));
  ar.put_text("progress.rng", default_generator().state());
  ar.save(path);
}

Progress load_checkpoint(const std::string& path, nn::Module& model, Optimizer& opt,
                         SchedulerState* schedule) {
  const Archive ar = Archive::load(path);
  // Validate everything, then apply: each part is read and checked into locals or by its
  // check_state, so a bad entry anywhere leaves model, optimizer, schedule and RNG as they were.
  Progress progress;
  Generator rng;
  try {
    progress = {ar.get_int64("progress.epoch"), ar.get_int64("progress.step")};
    if (progress.epoch < 0 || progress.step < 0)
      throw ValueError(
          msg("progress is negative: epoch ", progress.epoch, ", step ", progress.step));
    rng.set_state(ar.get_text("progress.rng"));
    nn::check_state(model, ar);
    opt.check_state(ar);
    if (schedule) schedule->check_state(ar);
  } catch (const Error& e) {
    const std::string what = e.what();
    // Archive's messages already name the file; the others get it here.
    throw ValueError(what.find(path) == std::string::npos
                         ? msg("load_checkpoint: ", path, ": ", what)
                         : msg("load_checkpoint: ", what));
  }
  nn::load_state(model, ar);
  opt.load_state(ar);
  if (schedule) schedule->load_state(ar);
  default_generator() = rng;
  return progress;
}

}  // namespace tapegrad::optim
