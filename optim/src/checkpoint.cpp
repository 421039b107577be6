// Whole-run checkpoints: model under "model.", optimizer under "optim.", schedule under
// "sched.", progress and the global generator under "progress.".
#include "tapegrad/optim/checkpoint.h"

#include "check.h"
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
  // Each load_state checks before it changes anything; a later one failing must not leave an
  // earlier one applied, so the earlier ones are snapshotted and restored on failure.
  Archive before;
  nn::save_state(model, before);
  opt.save_state(before);
  if (schedule) schedule->save_state(before);
  try {
    for (const char* k : {"progress.epoch", "progress.step"})
      if (!ar.is_tensor(k)) throw ValueError(msg("load: no '", k, "' entry"));
    if (!ar.contains("progress.rng")) throw ValueError("load: no 'progress.rng' entry");
    nn::load_state(model, ar);
    opt.load_state(ar);
    if (schedule) schedule->load_state(ar);
  } catch (const Error& e) {
    nn::load_state(model, before);
    opt.load_state(before);
    if (schedule) schedule->load_state(before);
    throw ValueError(msg(path, ": ", e.what()));
  }
  default_generator().set_state(ar.get_text("progress.rng"));
  return {static_cast<std::int64_t>(ar.get("progress.epoch").item()),
          static_cast<std::int64_t>(ar.get("progress.step").item())};
}

}  // namespace tapegrad::optim
