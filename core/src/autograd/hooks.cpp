// Gradient hooks (hooks.h): registration, the counters the backward pass consults, and the hook
// points it calls.
#include "autograd/hooks.h"

#include <atomic>
#include <mutex>

#include "autograd/node.h"
#include "tapegrad/core/autograd/hooks.h"
#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/errors.h"
#include "tensor/tensor_impl.h"

namespace tapegrad {

namespace {
std::atomic<std::size_t> g_grad_hooks{0};
std::atomic<int> g_next_grad_hook{0};
std::atomic<std::uint64_t> g_next_hook_pass{0};
}  // namespace

// ---- post-accumulate-grad hooks: registration ----

std::size_t registered_grad_hooks() { return g_grad_hooks.load(std::memory_order_acquire); }
void count_grad_hooks(std::ptrdiff_t delta) {
  g_grad_hooks.fetch_add(static_cast<std::size_t>(delta), std::memory_order_acq_rel);
}
GradHooks::GradHooks() = default;
GradHooks::~GradHooks() { count_grad_hooks(-static_cast<std::ptrdiff_t>(list->size())); }

int Tensor::register_post_accumulate_grad_hook(std::function<void(const Tensor&)> fn) const {
  TensorImpl& t = impl_of(*this, "register_post_accumulate_grad_hook");
  if (t.node)
    throw StateError(
        msg("register_post_accumulate_grad_hook: only leaves accumulate gradients; "
            "this tensor comes from op '",
            t.node->op, "'"));
  if (!t.requires_grad)
    throw StateError("register_post_accumulate_grad_hook: the tensor does not require grad");
  if (!fn) throw ValueError("register_post_accumulate_grad_hook: the function is empty");
  if (!t.grad_hooks) t.grad_hooks = std::make_unique<GradHooks>();
  const int handle = g_next_grad_hook.fetch_add(1, std::memory_order_relaxed);
  auto list = std::make_shared<GradHooks::List>(*t.grad_hooks->list);
  list->emplace_back(handle, std::move(fn));
  t.grad_hooks->list = std::move(list);
  count_grad_hooks(1);
  return handle;
}

void Tensor::remove_post_accumulate_grad_hook(int handle) const {
  TensorImpl& t = impl_of(*this, "remove_post_accumulate_grad_hook");
  if (!t.grad_hooks) return;
  auto list = std::make_shared<GradHooks::List>(*t.grad_hooks->list);
  const std::size_t removed =
      std::erase_if(*list, [&](const auto& h) { return h.first == handle; });
  t.grad_hooks->list = std::move(list);
  count_grad_hooks(-static_cast<std::ptrdiff_t>(removed));
}

// ---- post-backward hooks ----

namespace {
// Post-backward hooks: few, registered rarely, read after every backward.
using HookList = std::vector<std::pair<int, std::function<void()>>>;
struct Hooks {
  std::mutex mutex;
  HookList after, on_error;  // handles from one counter: remove finds either kind
  int next = 0;
  std::atomic<bool> any{false};
};
Hooks& hooks() {
  static Hooks h;
  return h;
}

std::vector<std::function<void()>> copy_of(HookList Hooks::*list) {
  Hooks& h = hooks();
  std::vector<std::function<void()>> fns;
  if (!h.any.load(std::memory_order_acquire)) return fns;
  std::lock_guard<std::mutex> lock(h.mutex);
  for (const auto& [id, fn] : h.*list) fns.push_back(fn);
  return fns;
}

int add_hook(HookList Hooks::*list, std::function<void()> fn, const char* who) {
  if (!fn) throw ValueError(msg(who, ": the function is empty"));
  Hooks& h = hooks();
  std::lock_guard<std::mutex> lock(h.mutex);
  (h.*list).emplace_back(h.next, std::move(fn));
  h.any.store(true, std::memory_order_release);
  return h.next++;
}
}  // namespace

void run_post_backward_hooks() {
  for (const auto& fn : copy_of(&Hooks::after)) fn();  // outside the lock: a hook may remove itself
}

void run_backward_error_hooks() noexcept {
  try {
    for (const auto& fn : copy_of(&Hooks::on_error)) try {
        fn();
      } catch (...) {  // the pass's own error is the one backward() reports
      }
  } catch (...) {  // copying the list ran out of memory: nothing more can be done here
  }
}

int add_post_backward_hook(std::function<void()> fn) {
  return add_hook(&Hooks::after, std::move(fn), "add_post_backward_hook");
}

int add_backward_error_hook(std::function<void()> fn) {
  return add_hook(&Hooks::on_error, std::move(fn), "add_backward_error_hook");
}

void remove_post_backward_hook(int handle) {
  Hooks& h = hooks();
  std::lock_guard<std::mutex> lock(h.mutex);
  for (HookList* list : {&h.after, &h.on_error})
    std::erase_if(*list, [&](const auto& e) { return e.first == handle; });
  h.any.store(!h.after.empty() || !h.on_error.empty(), std::memory_order_release);
}

// ---- the hook points of a backward pass ----

namespace {
void run_grad_hooks(const ImplPtr& leaf) {
  // The list as it is now, kept alive: a hook may remove itself (or others), which replaces it.
  const std::shared_ptr<const GradHooks::List> list = leaf->grad_hooks->list;
  const Tensor t(leaf);
  for (const auto& [id, fn] : *list) fn(t);
}

bool has_grad_hooks(const TensorImpl& t) { return t.grad_hooks && !t.grad_hooks->list->empty(); }
}  // namespace

HookedLeaves::HookedLeaves(const std::vector<Node*>& starts)
    : pass_(g_next_hook_pass.fetch_add(1) + 1) {
  std::vector<const Node*> stack;
  for (Node* start : starts) {
    start->hook_pass = pass_;
    stack.push_back(start);
  }
  while (!stack.empty()) {
    const Node* n = stack.back();
    stack.pop_back();
    for (const Node::Input& in : n->inputs) {
      if (Node* up = in.t->node.get()) {
        if (!up->released.load(std::memory_order_relaxed) && up->hook_pass != pass_) {
          up->hook_pass = pass_;
          stack.push_back(up);
        }
      } else if (in.t->requires_grad && has_grad_hooks(*in.t)) {
        GradHooks& h = *in.t->grad_hooks;
        if (h.pass != pass_) {
          h.pass = pass_;
          h.uses = 0;
          h.reached = false;
          leaves_.push_back(in.t);
        }
        ++h.uses;
      }
    }
  }
}

void HookedLeaves::entry_done(const Node& node) {
  for (const Node::Input& in : node.inputs) {
    GradHooks* h = in.t->node ? nullptr : in.t->grad_hooks.get();
    if (!h || h->pass != pass_) continue;
    h->reached = true;
    if (--h->uses == 0) run_grad_hooks(in.t);
  }
}

void HookedLeaves::pass_done() {
  for (const ImplPtr& t : leaves_) {
    GradHooks& h = *t->grad_hooks;
    if (h.pass == pass_ && h.reached && h.uses > 0) {
      h.uses = 0;
      run_grad_hooks(t);
    }
  }
}

std::optional<HookedLeaves> find_hooked_leaves(const std::vector<Node*>& starts) {
  if (starts.empty() || registered_grad_hooks() == 0) return std::nullopt;
  HookedLeaves hooked(starts);
  if (hooked.empty()) return std::nullopt;
  return hooked;
}

void leaf_grad_complete(const ImplPtr& leaf) {
  if (has_grad_hooks(*leaf)) run_grad_hooks(leaf);
}

}  // namespace tapegrad
