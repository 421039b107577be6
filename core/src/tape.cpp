// The tape: a Wengert list of recorded ops per thread, and backward(), which runs the entries a
// gradient reaches in reverse recording order. Entries are owned by the tensors they produced
// and listed here by weak reference, so a graph nobody can reach any more (an evaluation pass,
// an exception half-way) frees itself, and the list is compacted before it can outgrow the live
// entries by more than a factor of two.
#include <algorithm>
#include <atomic>
#include <cassert>
#include <cstring>
#include <mutex>
#include <optional>

#include "allocator.h"
#include "check.h"
#include "kernels.h"
#include "tapegrad/core/autograd.h"
#include "tensor_impl.h"

namespace tapegrad {

namespace {

struct Entry {
  std::uint64_t seq;
  std::weak_ptr<Node> node;
};

// Recording order across all threads: an op's inputs were recorded before it (on this thread, or
// on another one that handed the tensor over through a synchronisation), so they always have
// smaller numbers, and reverse order is a topological order even for graphs that cross threads.
std::atomic<std::uint64_t> g_next_seq{1};

struct Tape {
  std::vector<Entry> entries;
  std::size_t compact_at = 64;

  // Drops entries whose node is gone or already released; keeps recording order.
  void compact() {
    std::erase_if(entries, [](const Entry& e) {
      auto n = e.node.lock();
      return !n || n->released.load(std::memory_order_relaxed);
    });
    compact_at = std::max<std::size_t>(64, 2 * entries.size());
  }
};

thread_local Tape t_tape;
thread_local bool t_grad_enabled = true;
thread_local bool t_anomaly = false;

void check_finite(const char* what, const char* op, std::uint64_t seq, const TensorImpl& t) {
  if (is_floating(t.dtype) && has_non_finite(t))
    throw AnomalyError(msg("anomaly: op '", op, "' (tape entry #", seq, ") produced ", what,
                           " with NaN or Inf, shape ", shape_str(t.shape)));
}

// Whether gradients flow through t: a leaf marked requires_grad, or the result of a recorded op.
bool tracked(const Tensor& t) { return impl_ptr(t)->requires_grad || impl_ptr(t)->node != nullptr; }

// Saved values must be as they were recorded: an in-place update in between (an optimizer step
// before backward, say) would silently give a wrong gradient, so it is an error, as in PyTorch.
void check_versions(const Node& node) {
  auto fail = [&](const std::string& what, std::uint32_t now, std::uint32_t then) {
    throw StateError(msg("backward: ", what, " of op '", node.op, "' (tape entry #", node.seq,
                         ") was modified in place after it was recorded (version ", now,
                         ", recorded at ", then,
                         "); update it under NoGradGuard only after "
                         "backward, or clone() it first"));
  };
  for (std::size_t i = 0; i < node.inputs.size(); ++i)
    if (node.inputs[i].t->storage->version != node.inputs[i].version)
      fail(msg("input ", i), node.inputs[i].t->storage->version, node.inputs[i].version);
  if (node.out.storage->version != node.out_version)
    fail("the output", node.out.storage->version, node.out_version);
}

}  // namespace

bool is_grad_enabled() { return t_grad_enabled; }
void set_grad_enabled(bool on) { t_grad_enabled = on; }
NoGradGuard::NoGradGuard() : previous_(t_grad_enabled) { t_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { t_grad_enabled = previous_; }

bool is_anomaly_enabled() { return t_anomaly; }
void set_detect_anomaly(bool on) { t_anomaly = on; }
DetectAnomalyGuard::DetectAnomalyGuard() : previous_(t_anomaly) { t_anomaly = true; }
DetectAnomalyGuard::~DetectAnomalyGuard() { t_anomaly = previous_; }

Node::Node() = default;
Node::~Node() = default;

std::size_t Node::bytes_held() const {
  std::size_t b = 0;
  if (out.storage) b += out.bytes();
  if (grad) b += grad->bytes();
  return b;
}

TensorImpl* BackwardCtx::grad_in(std::size_t i) {
  TensorImpl& x = *node.inputs[i].t;
  if (x.node) {
    Node& up = *x.node;
    if (up.released.load(std::memory_order_relaxed))
      throw StateError(msg("backward: op '", up.op, "' (tape entry #", up.seq,
                           ") was already released by an earlier backward; pass "
                           "retain_graph=true to the first backward to go through it twice"));
    if (!up.grad) {
      up.grad = make_zeros(x.shape, x.dtype);
      touched.push_back(x.node);
    }
    return up.grad.get();
  }
  if (!x.requires_grad) return nullptr;
  if (capture) return capture->leaf_buffer(x);
  if (!x.grad) x.grad = make_zeros(x.shape, x.dtype);
  return x.grad.get();
}

TensorImpl* GradCapture::leaf_buffer(const TensorImpl& x) {
  for (std::size_t k = 0; k < leaves.size(); ++k)
    if (leaves[k] == &x) {
      if (!grads[k]) grads[k] = make_zeros(x.shape, x.dtype);
      return grads[k].get();
    }
  return nullptr;
}

void GradCapture::node_ready(const Node& node) {
  for (std::size_t k = 0; k < nodes.size(); ++k)
    if (nodes[k] == &node) {
      grads[k] = copy_impl(*node.grad);
    }
}

TensorImpl* BackwardCtx::steal_grad_out(std::size_t i) {
  TensorImpl& x = *node.inputs[i].t;
  if (!x.node || x.node->grad || x.node->released.load(std::memory_order_relaxed) ||
      node.grad.use_count() != 1)
    return nullptr;
  if (x.shape != node.grad->shape || x.dtype != node.grad->dtype) return nullptr;
  if (auto h = node.out_handle.lock(); h && h->retains_grad) return nullptr;
  x.node->grad = node.grad;
  touched.push_back(x.node);
  return x.node->grad.get();
}

bool any_requires_grad(const std::vector<Tensor>& ins) {
  return t_grad_enabled && std::any_of(ins.begin(), ins.end(),
                                       [](const Tensor& t) { return t.defined() && tracked(t); });
}

namespace {
template <typename Range>
Tensor record_range(const char* op, ImplPtr out, const Range& inputs, BackwardClosure fn) {
  // The one place that decides: integer results never carry gradients (as in PyTorch), so ops
  // written once for every dtype need no branch of their own for int64.
  if (is_floating(out->dtype) && t_grad_enabled &&
      std::any_of(inputs.begin(), inputs.end(), tracked)) {
    auto node = std::allocate_shared<Node>(memory::CachingAllocator<Node>());
    node->op = op;
    node->seq = g_next_seq.fetch_add(1, std::memory_order_relaxed);
    node->inputs.reserve(inputs.size());
    for (const Tensor& t : inputs)
      node->inputs.push_back({impl_ptr(t), impl_ptr(t)->storage->version});
    node->out.shape = out->shape;
    node->out.numel = out->numel;
    node->out.dtype = out->dtype;
    node->out.storage = out->storage;
    node->out_version = out->storage->version;
    node->out_handle = out;
    node->backward = std::move(fn);
    out->node = node;
    t_tape.entries.push_back({node->seq, node});
    if (t_tape.entries.size() >= t_tape.compact_at) t_tape.compact();
  }
  if (t_anomaly) check_finite("an output", op, out->node ? out->node->seq : 0, *out);
  return Tensor(std::move(out));
}
}  // namespace

Tensor record(const char* op, ImplPtr out, std::initializer_list<Tensor> inputs,
              BackwardClosure fn) {
  return record_range(op, std::move(out), inputs, std::move(fn));
}
Tensor record(const char* op, ImplPtr out, const std::vector<Tensor>& inputs, BackwardClosure fn) {
  return record_range(op, std::move(out), inputs, std::move(fn));
}

void accumulate_grad(TensorImpl& target, const TensorImpl& g) {
  if (!target.grad) target.grad = make_zeros(target.shape, target.dtype);
  add_into(*target.grad, g);
}

namespace {

void check_root_grad(const char* op, const TensorImpl& root, const TensorImpl& g) {
  if (g.shape != root.shape)
    throw ShapeError(msg(op, ": gradient shape ", shape_str(g.shape),
                         " does not match the tensor's shape ", shape_str(root.shape)));
  if (g.dtype != root.dtype)
    throw ValueError(msg(op, ": gradient dtype ", dtype_name(g.dtype),
                         " does not match the tensor's dtype ", dtype_name(root.dtype)));
}

}  // namespace

ImplPtr seed_grad(const char* op, const TensorImpl& root, const Tensor& grad) {
  if (grad.defined()) {
    check_root_grad(op, root, *impl_ptr(grad));
    return copy_impl(*impl_ptr(grad));
  }
  if (root.numel != 1)
    throw StateError(msg(op, ": the tensor has shape ", shape_str(root.shape),
                         ", not one element; pass a gradient of that shape, e.g. "
                         "y.backward(ones_like(y))"));
  return impl_ptr(ones({root.shape}, {.dtype = root.dtype}));
}

namespace {
// Post-backward hooks: few, registered rarely, read after every backward.
struct Hooks {
  std::mutex mutex;
  std::vector<std::pair<int, std::function<void()>>> list;
  int next = 0;
  std::atomic<bool> any{false};
};
Hooks& hooks() {
  static Hooks h;
  return h;
}

void run_post_backward_hooks() {
  Hooks& h = hooks();
  if (!h.any.load(std::memory_order_acquire)) return;
  std::vector<std::function<void()>> fns;
  {
    std::lock_guard<std::mutex> lock(h.mutex);
    for (const auto& [id, fn] : h.list) fns.push_back(fn);
  }
  for (const auto& fn : fns) fn();  // outside the lock: a hook may remove itself
}
}  // namespace

int add_post_backward_hook(std::function<void()> fn) {
  if (!fn) throw ValueError("add_post_backward_hook: the function is empty");
  Hooks& h = hooks();
  std::lock_guard<std::mutex> lock(h.mutex);
  h.list.emplace_back(h.next, std::move(fn));
  h.any.store(true, std::memory_order_release);
  return h.next++;
}

void remove_post_backward_hook(int handle) {
  Hooks& h = hooks();
  std::lock_guard<std::mutex> lock(h.mutex);
  std::erase_if(h.list, [&](const auto& e) { return e.first == handle; });
  h.any.store(!h.list.empty(), std::memory_order_release);
}

namespace {
void run_grad_hooks(const ImplPtr& leaf) {
  // The list as it is now, kept alive: a hook may remove itself (or others), which replaces it.
  const std::shared_ptr<const GradHooks::List> list = leaf->grad_hooks->list;
  const Tensor t(leaf);
  for (const auto& [id, fn] : *list) fn(t);
}

bool has_grad_hooks(const TensorImpl& t) { return t.grad_hooks && !t.grad_hooks->list->empty(); }

// The leaves with post-accumulate-grad hooks that this pass can reach, each with the number of
// its uses on the entries it can reach (kept in its GradHooks, stamped with the pass): when that
// many have been differentiated, the leaf's gradient is complete (PyTorch's dependency count,
// counted only while such hooks exist). Entries are marked visited by the same stamp, so a pass
// allocates no more than the list of hooked leaves and a stack.
class HookedLeaves {
 public:
  explicit HookedLeaves(const std::vector<Node*>& starts)
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
  bool empty() const { return leaves_.empty(); }

  // After node's backward ran: its uses of hooked leaves are done.
  void ran(const Node& node) {
    for (const Node::Input& in : node.inputs) {
      GradHooks* h = in.t->node ? nullptr : in.t->grad_hooks.get();
      if (!h || h->pass != pass_) continue;
      h->reached = true;
      if (--h->uses == 0) run_grad_hooks(in.t);
    }
  }

  // At the end of the pass: a leaf reached through some entries but not through others (one the
  // gradient never got to) is complete too.
  void finish() {
    for (const ImplPtr& t : leaves_) {
      GradHooks& h = *t->grad_hooks;
      if (h.pass == pass_ && h.reached && h.uses > 0) {
        h.uses = 0;
        run_grad_hooks(t);
      }
    }
  }

 private:
  static inline std::atomic<std::uint64_t> g_next_hook_pass{0};
  std::uint64_t pass_;
  std::vector<ImplPtr> leaves_;
};
}  // namespace

void Tensor::backward(const Tensor& grad, bool retain_graph) const {
  TensorImpl& root = impl_of(*this, "backward");
  if (!root.requires_grad && !root.node)
    throw StateError(
        "backward: the tensor does not require grad: no input was marked requires_grad_(), "
        "or it was computed under NoGradGuard or detach()");
  run_backward({{impl_ptr(*this), seed_grad("backward", root, grad)}}, retain_graph, nullptr);
}

void run_backward(std::vector<std::pair<ImplPtr, ImplPtr>> roots, bool retain_graph,
                  GradCapture* capture) {
  // Entries a gradient has reached wait in a max-heap by recording number, so each runs after
  // every entry that consumes its output, wherever (on whichever thread's tape) they were
  // recorded; entries the gradient never reaches cost nothing. `touched` keeps them alive until
  // the pass ends: releasing one drops its inputs, which may be the last owners of upstream
  // entries still waiting for their gradient.
  std::vector<std::shared_ptr<Node>> touched;
  std::vector<Node*> ready;
  const auto recorded_before = [](const Node* a, const Node* b) { return a->seq < b->seq; };
  try {
    for (auto& [root, seed] : roots) {
      if (!root->node) {  // a leaf: its gradient is the seed itself
        if (!capture) {
          accumulate_grad(*root, *seed);
          if (has_grad_hooks(*root)) run_grad_hooks(root);
        } else if (TensorImpl* g = capture->leaf_buffer(*root)) {
          add_into(*g, *seed);
        }
        continue;
      }
      const std::shared_ptr<Node>& start = root->node;
      if (start->released.load(std::memory_order_relaxed))
        throw StateError(msg("backward: op '", start->op, "' (tape entry #", start->seq,
                             ") was already released by an earlier backward; pass "
                             "retain_graph=true to the first backward to go through it twice"));
      if (start->grad) {  // the same result twice among the roots: seeds add up
        add_into(*start->grad, *seed);
        continue;
      }
      start->grad = std::move(seed);
      touched.push_back(start);
      ready.push_back(start.get());
      std::push_heap(ready.begin(), ready.end(), recorded_before);
    }
    std::optional<HookedLeaves> hooked;
    if (!capture && !ready.empty() && registered_grad_hooks() > 0) {
      hooked.emplace(ready);
      if (hooked->empty()) hooked.reset();
    }
    while (!ready.empty()) {
      std::pop_heap(ready.begin(), ready.end(), recorded_before);
      Node* node = ready.back();
      ready.pop_back();
      assert(node->grad && node->grad->shape == node->out.shape);
      check_versions(*node);
      if (capture) capture->node_ready(*node);
      const std::size_t reached = touched.size();
      BackwardCtx ctx{*node, touched, capture};
      node->backward(ctx);
      for (std::size_t i = reached; i < touched.size(); ++i) {
        ready.push_back(touched[i].get());
        std::push_heap(ready.begin(), ready.end(), recorded_before);
      }
      if (t_anomaly)
        for (const Node::Input& in : node->inputs) {
          const ImplPtr& x = in.t;
          const ImplPtr& g = x->node ? x->node->grad : x->grad;
          if (g) check_finite("a gradient", node->op, node->seq, *g);
        }
      if (hooked) hooked->ran(*node);
      if (!capture)
        if (auto h = node->out_handle.lock(); h && h->retains_grad)
          accumulate_grad(*h, *node->grad);
      node->grad.reset();
      if (!retain_graph) {
        node->backward = nullptr;
        node->inputs.clear();
        node->out.storage.reset();
        node->released.store(true, std::memory_order_relaxed);
      }
    }
    if (hooked) hooked->finish();
  } catch (...) {
    for (auto& n : touched) n->grad.reset();
    throw;
  }
  if (!retain_graph) t_tape.compact();
  if (!capture) run_post_backward_hooks();
}

std::vector<std::shared_ptr<Node>> live_tape_entries() {
  t_tape.compact();
  std::vector<std::shared_ptr<Node>> live;
  for (const Entry& e : t_tape.entries)
    if (auto n = e.node.lock()) live.push_back(std::move(n));
  return live;
}

}  // namespace tapegrad
