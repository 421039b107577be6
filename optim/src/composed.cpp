// ComposedLR and the schedules made of schedules: SequentialLR and ChainedScheduler.
#include "tapegrad/optim/composed.h"

#include <algorithm>

#include "schedule_math.h"
#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/errors.h"

namespace tapegrad::optim {

// ---- ComposedLR ----
ComposedLR::ComposedLR(const char* who, Optimizer& opt,
                       std::vector<std::shared_ptr<LRScheduler>> children)
    : LRScheduler(opt), schedulers_(std::move(children)), who_(who) {
  if (schedulers_.empty()) throw ValueError(msg(who, ": needs at least one scheduler"));
  for (std::size_t i = 0; i < schedulers_.size(); ++i)
    if (!schedulers_[i] || &schedulers_[i]->opt_ != &opt)
      throw ValueError(msg(who, ": scheduler ", i,
                           schedulers_[i] ? " drives another optimizer" : " is null",
                           "; every scheduler must drive the same optimizer"));
}

void ComposedLR::save_state(Archive& ar, const std::string& prefix) const {
  LRScheduler::save_state(ar, prefix);
  for (std::size_t i = 0; i < schedulers_.size(); ++i)
    schedulers_[i]->save_state(ar, msg(prefix, i, "."));
}

namespace {
struct LoadedComposed : LoadedState {
  std::unique_ptr<LoadedState> own;
  std::vector<std::unique_ptr<LoadedState>> children;
};
}  // namespace

std::unique_ptr<LoadedState> ComposedLR::read_state(const Archive& ar,
                                                    const std::string& prefix) const {
  // All of it, so that no child is applied before a later one fails.
  auto r = std::make_unique<LoadedComposed>();
  r->own = LRScheduler::read_state(ar, prefix);
  for (std::size_t i = 0; i < schedulers_.size(); ++i) {
    if (!ar.is_tensor(msg(prefix, i, ".last_epoch")))
      throw ValueError(msg(who_, ": no state for scheduler ", i));
    r->children.push_back(schedulers_[i]->read_state(ar, msg(prefix, i, ".")));
  }
  return r;
}

void ComposedLR::apply_state(LoadedState& state) {
  auto& r = dynamic_cast<LoadedComposed&>(state);
  LRScheduler::apply_state(*r.own);
  for (std::size_t i = 0; i < schedulers_.size(); ++i) schedulers_[i]->apply_state(*r.children[i]);
}

// ---- SequentialLR ----
SequentialLR::SequentialLR(Optimizer& opt, std::vector<std::shared_ptr<LRScheduler>> schedulers,
                           std::vector<std::int64_t> milestones)
    : ComposedLR("SequentialLR", opt, std::move(schedulers)), milestones_(std::move(milestones)) {
  if (milestones_.size() != schedulers_.size() - 1)
    throw ValueError(msg("SequentialLR: ", schedulers_.size(), " schedulers need ",
                         schedulers_.size() - 1, " milestones, got ", milestones_.size()));
  // As PyTorch: undo the epoch-0 steps the schedulers took when built, then start the first.
  for (std::size_t g = 0; g < opt.num_groups(); ++g) opt.set_lr(opt.initial_lr(g), g);
  for (auto& s : schedulers_) s->last_epoch_ -= 1;
  schedulers_[0]->initial_step(-1, "SequentialLR");
  last_epoch_ = 0;
  last_lr_ = schedulers_[0]->get_last_lr();
}

void SequentialLR::step() {
  ++last_epoch_;
  const auto idx = static_cast<std::size_t>(
      std::upper_bound(milestones_.begin(), milestones_.end(), last_epoch_) - milestones_.begin());
  LRScheduler& s = *schedulers_[idx];
  if (idx > 0 && milestones_[idx - 1] == last_epoch_)
    s.step_to(0);  // the next schedule starts from its own epoch 0
  else
    s.step();
  last_lr_ = s.get_last_lr();
}

// ---- ChainedScheduler ----
namespace {
Optimizer& first_optimizer(const std::vector<std::shared_ptr<LRScheduler>>& cs) {
  if (cs.empty() || !cs[0]) throw ValueError("ChainedScheduler: needs at least one scheduler");
  return cs[0]->optimizer();
}
}  // namespace

ChainedScheduler::ChainedScheduler(std::vector<std::shared_ptr<LRScheduler>> schedulers)
    // A copy, not a move: arguments are evaluated in no set order, and the first reads it.
    : ComposedLR("ChainedScheduler", first_optimizer(schedulers), schedulers) {
  last_epoch_ = 0;
  last_lr_ = per_group(opt_.num_groups(), [&](std::size_t g) { return current(g); });
}

void ChainedScheduler::step() {
  for (auto& s : schedulers_) s->step();
  ++last_epoch_;
  last_lr_ = per_group(opt_.num_groups(), [&](std::size_t g) { return current(g); });
}

}  // namespace tapegrad::optim
