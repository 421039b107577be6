// ScheduleStep and PlateauStep: a schedule's step at the point of the loop it is made for.
#include "tapegrad/train/schedule_step.h"

namespace tapegrad::train {

Signal ScheduleStep::on_batch_end(const BatchEnd&) {
  if (per_batch_) schedule_.step();
  return Signal::Continue;
}

Signal ScheduleStep::on_epoch_end(const EpochEnd&) {
  if (!per_batch_) schedule_.step();
  return Signal::Continue;
}

Signal PlateauStep::on_epoch_end(const EpochEnd& e) {
  plateau_.step(e.record.get(monitor_));
  return Signal::Continue;
}

}  // namespace tapegrad::train
