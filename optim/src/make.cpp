// make() and make_schedule(): a name to an optimizer or schedule, with torch's defaults.
#include "tapegrad/optim/make.h"

#include <algorithm>

#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/errors.h"
#include "tapegrad/optim/optim.h"
#include "validate.h"

namespace tapegrad::optim {

namespace {
std::string listed(const std::vector<std::string>& names) {
  std::string r;
  for (const std::string& n : names) r += (r.empty() ? "" : ", ") + n;
  return r;
}

// Options with lr and weight decay as given; the rest at the type's defaults.
template <typename Options>
Options with(const MakeOptions& o) {
  Options r;
  if (o.lr > 0) r.lr = o.lr;
  r.weight_decay = o.weight_decay;
  return r;
}

template <typename Opt, typename Options>
std::unique_ptr<Optimizer> build(const NamedParams& params, Options options) {
  return std::make_unique<Opt>(params, options);
}
}  // namespace

const std::vector<std::string>& optimizer_names() {
  static const std::vector<std::string> names = {
      "sgd",    "momentum", "nesterov", "adagrad", "rmsprop", "adam", "amsgrad", "adamw",
      "adamax", "adadelta", "nadam",    "radam",   "rprop",   "asgd", "lbfgs"};
  return names;
}

std::unique_ptr<Optimizer> make(const std::string& name, const NamedParams& params, MakeOptions o) {
  if (name == "sgd" || name == "momentum" || name == "nesterov") {
    auto s = with<SGDOptions>(o);
    if (o.lr <= 0)
      throw ValueError(msg("optim::make: ", name, " needs an lr (SGD has no default)"));
    if (name != "sgd") s.momentum = o.momentum;
    s.nesterov = name == "nesterov";
    return build<SGD>(params, s);
  }
  if (name == "adagrad") return build<Adagrad>(params, with<AdagradOptions>(o));
  if (name == "rmsprop") return build<RMSprop>(params, with<RMSpropOptions>(o));
  if (name == "adam" || name == "amsgrad") {
    auto a = with<AdamOptions>(o);
    a.amsgrad = name == "amsgrad";
    return build<Adam>(params, a);
  }
  if (name == "adamw") return build<AdamW>(params, with<AdamWOptions>(o));
  if (name == "adamax") return build<Adamax>(params, with<AdamaxOptions>(o));
  if (name == "adadelta") return build<Adadelta>(params, with<AdadeltaOptions>(o));
  if (name == "nadam") return build<NAdam>(params, with<NAdamOptions>(o));
  if (name == "radam") return build<RAdam>(params, with<RAdamOptions>(o));
  if (name == "asgd") return build<ASGD>(params, with<ASGDOptions>(o));
  if (name == "rprop" || name == "lbfgs") {
    if (o.weight_decay != 0)
      throw ValueError(msg("optim::make: ", name, " takes no weight decay, got ", o.weight_decay));
    if (name == "rprop") {
      RpropOptions r;
      if (o.lr > 0) r.lr = o.lr;
      return build<Rprop>(params, r);
    }
    LBFGSOptions l;
    if (o.lr > 0) l.lr = o.lr;
    return build<LBFGS>(params, l);
  }
  throw ValueError(msg("optim::make: no optimizer named \"", name, "\"; expected one of ",
                       listed(optimizer_names())));
}

std::unique_ptr<Optimizer> make(const std::string& name, const std::vector<Tensor>& params,
                                MakeOptions o) {
  NamedParams named;
  for (std::size_t i = 0; i < params.size(); ++i) named.emplace_back(std::to_string(i), params[i]);
  return make(name, named, o);
}

const std::vector<std::string>& schedule_names() {
  static const std::vector<std::string> names = {
      "none", "step", "exponential", "cosine", "warmup-cosine", "cosine-restarts", "onecycle"};
  return names;
}

bool steps_per_batch(const std::string& schedule) { return schedule == "onecycle"; }

std::unique_ptr<LRScheduler> make_schedule(const std::string& name, Optimizer& opt,
                                           MakeScheduleOptions o) {
  if (o.epochs < 1 || o.steps_per_epoch < 1)
    throw ValueError(msg("optim::make_schedule: epochs and steps_per_epoch must be >= 1, got ",
                         o.epochs, " and ", o.steps_per_epoch));
  if (name == "none") return nullptr;
  if (name == "step")
    return std::make_unique<StepLR>(opt, std::max<std::int64_t>(1, o.epochs / 3), 0.1);
  if (name == "exponential") return std::make_unique<ExponentialLR>(opt, 0.8);
  if (name == "cosine") return std::make_unique<CosineAnnealingLR>(opt, o.epochs);
  if (name == "warmup-cosine") {
    const std::int64_t warm = std::max<std::int64_t>(1, o.epochs / 5);
    auto w = std::make_shared<LinearLR>(opt, 0.1, 1.0, warm);
    auto cos = std::make_shared<CosineAnnealingLR>(opt, std::max<std::int64_t>(1, o.epochs - warm));
    return std::make_unique<SequentialLR>(opt, std::vector<std::shared_ptr<LRScheduler>>{w, cos},
                                          std::vector<std::int64_t>{warm});
  }
  if (name == "cosine-restarts") return std::make_unique<CosineAnnealingWarmRestarts>(opt, 1, 2);
  if (name == "onecycle") {
    if (o.epochs > kMaxCount / o.steps_per_epoch)
      throw ValueError(msg("optim::make_schedule: ", o.epochs, " epochs of ", o.steps_per_epoch,
                           " steps overflow"));
    return std::make_unique<OneCycleLR>(
        opt, opt.lr(), o.epochs * o.steps_per_epoch,
        OneCycleLROptions{.cycle_momentum = opt.cycled_momentum() != nullptr});
  }
  throw ValueError(msg("optim::make_schedule: no schedule named \"", name, "\"; expected one of ",
                       listed(schedule_names())));
}

}  // namespace tapegrad::optim
