// Optimizers and schedules by name, as a script takes them from its command line
// ("--optimizer adam --lr-schedule cosine"): one place that knows every name.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tapegrad/optim/lr_scheduler.h"
#include "tapegrad/optim/optimizer.h"

namespace tapegrad::optim {

/// The hyperparameters make() passes on; the rest are each optimizer's defaults.
struct MakeOptions {
  double lr = 0;            ///< 0: the optimizer's own default (torch's); plain SGD has none
  double momentum = 0.9;    ///< for "momentum" and "nesterov"
  double weight_decay = 0;  ///< every optimizer but rprop and lbfgs takes it
};

/// The optimizer a name gives: "sgd", "momentum" (SGD with momentum), "nesterov", "adagrad",
/// "rmsprop", "adam", "amsgrad", "adamw", "adamax", "adadelta", "nadam", "radam", "rprop",
/// "asgd", "lbfgs". ValueError listing the names for any other, and naming what a chosen one
/// does not take.
std::unique_ptr<Optimizer> make(const std::string& name, const NamedParams& params,
                                MakeOptions options = {});
/// The same, for parameters without names.
std::unique_ptr<Optimizer> make(const std::string& name, const std::vector<Tensor>& params,
                                MakeOptions options = {});
/// The names make() knows, in the order above.
const std::vector<std::string>& optimizer_names();

/// The run make_schedule() plans a schedule for.
struct MakeScheduleOptions {
  std::int64_t epochs = 1;           ///< the run's length
  std::int64_t steps_per_epoch = 1;  ///< batches an epoch, for the schedules stepped per batch
};

/// The schedule a name gives over a run of `epochs`: "none" (nullptr), "step" (StepLR: a tenth
/// every third of the run), "exponential" (0.8 an epoch), "cosine" (CosineAnnealingLR over the
/// run), "warmup-cosine" (LinearLR from a tenth over the first fifth, then cosine),
/// "cosine-restarts" (warm restarts after 1, 2, 4, ... epochs), "onecycle" (OneCycleLR over
/// every batch, peaking at the optimizer's lr, cycling its momentum when it declares one).
/// ValueError listing the names for any other.
std::unique_ptr<LRScheduler> make_schedule(const std::string& name, Optimizer& opt,
                                           MakeScheduleOptions options);
/// The names make_schedule knows.
const std::vector<std::string>& schedule_names();
/// Whether the named schedule is stepped after every batch (onecycle) rather than every epoch.
bool steps_per_batch(const std::string& schedule);

}  // namespace tapegrad::optim
