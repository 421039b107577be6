// Gradient hooks, all in one place: the per-leaf post-accumulate-grad hooks (registered through
// Tensor, fired when a leaf's gradient is complete) and the process-wide post-backward hooks.
// The backward pass calls the hook points below and knows nothing else about hooks.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "tapegrad/core/tensor.h"

namespace tapegrad {

struct TensorImpl;
struct Node;

/// A leaf's post-accumulate-grad hooks (Tensor::register_post_accumulate_grad_hook), and the
/// count backward() keeps of the leaf's uses still to differentiate in the pass it stamped.
struct GradHooks {
  GradHooks();
  ~GradHooks();  // takes its hooks off the count backward() consults
  GradHooks(const GradHooks&) = delete;
  GradHooks& operator=(const GradHooks&) = delete;
  using List = std::vector<std::pair<int, std::function<void(const Tensor&)>>>;
  // Copy-on-write: registering or removing makes a new list, so a firing holds the list it
  // started with (a hook may remove itself) for one reference count, not a copy of each hook.
  std::shared_ptr<const List> list = std::make_shared<const List>();
  std::uint64_t pass = 0;  // the backward pass whose uses are counted below
  std::int64_t uses = 0;
  bool reached = false;
};

/// How many post-accumulate-grad hooks exist: while none do, backward() skips counting uses.
std::size_t registered_grad_hooks();
void count_grad_hooks(std::ptrdiff_t delta);

// ---- the hook points of a backward pass ----

/// The leaves with post-accumulate-grad hooks that one pass can reach, each with the number of
/// its uses on the entries it can reach (kept in its GradHooks, stamped with the pass): when
/// that many have been differentiated, the leaf's gradient is complete (PyTorch's dependency
/// count, counted only while such hooks exist). Entries are marked visited by the same stamp,
/// so a pass allocates no more than the list of hooked leaves and a stack.
class HookedLeaves {
 public:
  explicit HookedLeaves(const std::vector<Node*>& starts);
  bool empty() const { return leaves_.empty(); }
  /// After node's backward ran: its uses of hooked leaves are done; fires the leaves that are
  /// now complete.
  void entry_done(const Node& node);
  /// At the end of the pass: a leaf reached through some entries but not through others (one
  /// the gradient never got to) is complete too.
  void pass_done();

 private:
  std::uint64_t pass_;
  std::vector<RefPtr<TensorImpl>> leaves_;
};

/// The hooked leaves a pass from starts reaches, or nothing when no post-accumulate-grad hook
/// exists or none of the reached leaves has one (the usual case, which costs one load).
std::optional<HookedLeaves> find_hooked_leaves(const std::vector<Node*>& starts);

/// A root that is itself a leaf is complete once its seed is in: fires its hooks, if any.
void leaf_grad_complete(const RefPtr<TensorImpl>& leaf);

/// Runs every post-backward hook, in registration order (after a pass that filled .grad).
void run_post_backward_hooks();
/// Runs the backward-error hooks (add_backward_error_hook), dropping what they throw.
void run_backward_error_hooks() noexcept;

}  // namespace tapegrad
