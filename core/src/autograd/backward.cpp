// The backward pass: the entries a gradient reaches run in reverse recording order, each adding
// into its inputs' gradient buffers (BackwardCtx); gradients end in the leaves' .grad, or, for
// grad(), in a GradCapture. Hooks run at the points hooks.h names.
#include "autograd/backward.h"

#include <algorithm>
#include <atomic>
#include <cassert>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>

#include "autograd/anomaly.h"
#include "autograd/hooks.h"
#include "autograd/tape.h"
#include "kernels/broadcast.h"
#include "tapegrad/core/autograd/grad.h"
#include "tapegrad/core/autograd/tape.h"
#include "tapegrad/core/ops/arith.h"

namespace tapegrad {

namespace {
// Passes are numbered from 1; 0 marks an entry no pass is differentiating.
std::atomic<std::uint64_t> g_next_pass{1};

// Backward passes that fill .grad (and run hooks) take turns: two threads differentiating
// graphs that share leaves, or one shared graph retained, then accumulate exactly as one thread
// would, in some order. Recursive: a hook may run a backward of its own. grad() passes write
// only their own buffers and the entries they claim, so they run side by side.
std::recursive_mutex g_grad_pass_mutex;

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
  if (node.out.storage && node.out.storage->version != node.out_version)
    fail("the output", node.out.storage->version, node.out_version);
}

// An entry a backward without retain_graph already went through has lost its saved values.
void check_not_released(const Node& n) {
  if (n.released.load(std::memory_order_relaxed))
    throw StateError(msg("backward: op '", n.op, "' (tape entry #", n.seq,
                         ") was already released by an earlier backward; pass "
                         "retain_graph=true to the first backward to go through it twice"));
}

// Claims n for this pass; true when the claim is new. Throws when another pass holds it.
bool claim(Node& n, std::uint64_t pass) {
  std::uint64_t owner = n.pass.load(std::memory_order_acquire);
  if (owner == pass) return false;
  if (owner == 0 && n.pass.compare_exchange_strong(owner, pass, std::memory_order_acq_rel))
    return true;
  throw StateError(msg("backward: op '", n.op, "' (tape entry #", n.seq,
                       ") is being differentiated by another thread's backward pass right now; "
                       "two passes through one graph must not overlap: join the other thread "
                       "first, or give each thread a graph of its own"));
}
// Room for one more entry in touched before an entry is claimed, so that a failed push_back
// cannot strand a claim; geometric, as push_back's own growth (reserve(size() + 1) alone would
// reallocate on every call).
void make_room(std::vector<NodePtr>& touched) {
  if (touched.size() == touched.capacity()) touched.reserve(2 * touched.size() + 16);
}

// A pass's work lists, kept from pass to pass on each thread (their capacity is the point: a
// small model's step is one short pass, and growing two fresh vectors cost several allocations
// per pass). A hook that starts a pass of its own takes a second pair.
struct PassLists {
  std::vector<NodePtr> touched;
  std::vector<Node*> ready;
};
thread_local std::vector<std::unique_ptr<PassLists>> t_spare_lists;

class BorrowedLists {
 public:
  BorrowedLists() {
    if (t_spare_lists.empty()) {
      lists_ = std::make_unique<PassLists>();
    } else {
      lists_ = std::move(t_spare_lists.back());
      t_spare_lists.pop_back();
    }
  }
  ~BorrowedLists() {
    lists_->touched.clear();  // the pass's references on its entries go here, as they should
    lists_->ready.clear();
    try {
      t_spare_lists.push_back(std::move(lists_));
    } catch (...) {  // out of memory: the lists just go
    }
  }
  BorrowedLists(const BorrowedLists&) = delete;
  BorrowedLists& operator=(const BorrowedLists&) = delete;
  PassLists& operator*() { return *lists_; }

 private:
  std::unique_ptr<PassLists> lists_;
};
}  // namespace

TensorImpl* BackwardCtx::grad_in(std::size_t i) {
  TensorImpl& x = *node.inputs[i].t;
  if (x.node) {
    Node& up = *x.node;
    check_not_released(up);
    make_room(touched);
    claim(up, pass);
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

bool GraphCtx::needs(std::size_t i) const {
  const TensorImpl& x = *node.inputs[i].t;
  if (x.node) return true;
  if (!x.requires_grad) return false;
  return !capture || capture->wants(x);
}

void GraphCtx::add(std::size_t i, const Tensor& g) {
  TensorImpl& x = *node.inputs[i].t;
  const TensorImpl& ig = impl_of(g, node.op);
  if (ig.shape != x.shape || ig.dtype != x.dtype)
    throw std::logic_error(msg("create_graph: op '", node.op, "' gave input ", i, " a gradient ",
                               shape_str(ig.shape), " ", dtype_name(ig.dtype), " for ",
                               shape_str(x.shape), " ", dtype_name(x.dtype)));
  if (x.node) {
    Node& up = *x.node;
    check_not_released(up);
    make_room(touched);
    claim(up, pass);
    if (!up.grad) {
      up.grad = impl_ptr(g);
      touched.push_back(x.node);
    } else {
      up.grad = impl_ptr(Tensor(up.grad) + g);
    }
    return;
  }
  if (!x.requires_grad) return;
  if (capture)
    capture->add_to_leaf(x, g);
  else
    accumulate_grad_graph(x.grad, g);
}

void Node::no_output() const {
  throw std::logic_error(msg("backward of op '", op,
                             "': reads its output, but the op was recorded without ReadsOutput"));
}

TensorImpl* BackwardCtx::steal_grad_out(std::size_t i) {
  TensorImpl& x = *node.inputs[i].t;
  if (!x.node || x.node->released.load(std::memory_order_relaxed)) return nullptr;
  make_room(touched);
  const bool fresh = claim(*x.node, pass);
  if (x.node->grad || node.grad.use_count() != 1 || x.shape != node.grad->shape ||
      x.dtype != node.grad->dtype || node.out_retains_grad.load(std::memory_order_relaxed)) {
    if (fresh) x.node->pass.store(0, std::memory_order_release);  // grad_in claims it again
    return nullptr;
  }
  x.node->grad = node.grad;
  touched.push_back(x.node);
  return x.node->grad.get();
}

TensorImpl* GradCapture::leaf_buffer(const TensorImpl& x) {
  for (std::size_t k = 0; k < leaves.size(); ++k)
    if (leaves[k] == &x) {
      if (!grads[k]) grads[k] = make_zeros(x.shape, x.dtype);
      return grads[k].get();
    }
  return nullptr;
}

bool GradCapture::wants(const TensorImpl& x) const {
  return std::find(leaves.begin(), leaves.end(), &x) != leaves.end();
}

void GradCapture::add_to_leaf(const TensorImpl& x, const Tensor& g) {
  for (std::size_t k = 0; k < leaves.size(); ++k)
    if (leaves[k] == &x) grads[k] = grads[k] ? impl_ptr(Tensor(grads[k]) + g) : impl_ptr(g);
}

// grad() needs nothing upstream of its inputs. When every input is a recorded result, an entry
// none of whose inputs was recorded at or after the earliest of them (the numbering is
// topological) leads to none, so it is not run, as torch's engine runs only what leads to an
// input. A derivative that differentiates a recomputation of its op inside a pass relies on
// this: its inner pass stays out of the outer pass's entries.
std::uint64_t GradCapture::done_at() const {
  if (std::any_of(nodes.begin(), nodes.end(), [](const Node* n) { return n == nullptr; })) return 0;
  std::uint64_t at = std::numeric_limits<std::uint64_t>::max();
  for (const Node* n : nodes) at = std::min(at, n->seq);
  return at;
}

bool GradCapture::leads_to(const Node& node, std::uint64_t done_at) {
  return std::any_of(node.inputs.begin(), node.inputs.end(), [done_at](const Node::Input& in) {
    return in.t->node && in.t->node->seq >= done_at;
  });
}

void GradCapture::node_ready(const Node& node) {
  for (std::size_t k = 0; k < nodes.size(); ++k)
    if (nodes[k] == &node) grads[k] = create_graph ? node.grad : copy_impl(*node.grad);
}

void accumulate_grad(ImplPtr& slot, const TensorImpl& like, const TensorImpl& g) {
  if (!slot)
    slot = make_zeros(like.shape, like.dtype);
  else if (slot->node)
    slot = copy_impl(*slot);  // a create_graph gradient: its graph stays intact
  add_into(*slot, g);
}

void accumulate_grad_graph(ImplPtr& slot, const Tensor& g) {
  // clone(): the slot gets storage of its own, so a later in-place accumulation or zero_grad
  // cannot reach another gradient that shares g.
  slot = impl_ptr(slot ? Tensor(slot) + g : g.clone());
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
ImplPtr seed_grad(const char* op, const TensorImpl& root, const Tensor& grad, bool create_graph) {
  if (grad.defined()) {
    check_root_grad(op, root, *impl_ptr(grad));
    return create_graph ? impl_ptr(grad) : copy_impl(*impl_ptr(grad));
  }
  if (root.numel != 1)
    throw StateError(msg(op, ": the tensor has shape ", shape_str(root.shape),
                         ", not one element; pass a gradient of that shape, e.g. "
                         "y.backward(ones_like(y))"));
  return impl_ptr(ones({root.shape}, {.dtype = root.dtype}));
}

void Tensor::backward(const Tensor& grad, bool retain_graph) const {
  backward(grad, BackwardOptions{.retain_graph = retain_graph});
}

void Tensor::backward(const Tensor& grad, const BackwardOptions& options) const {
  TensorImpl& root = impl_of(*this, "backward");
  if (!root.requires_grad && !root.node)
    throw StateError(
        "backward: the tensor does not require grad: no input was marked requires_grad_(), "
        "or it was computed under NoGradGuard or detach()");
  run_backward({{impl_ptr(*this), seed_grad("backward", root, grad, options.create_graph)}},
               options.retain_graph.value_or(options.create_graph), nullptr, options.create_graph);
}

void run_backward(std::vector<std::pair<ImplPtr, ImplPtr>> roots, bool retain_graph,
                  GradCapture* capture, bool create_graph) {
  // Entries a gradient has reached wait in a max-heap by recording number, so each runs after
  // every entry that consumes its output, wherever (on whichever thread's tape) they were
  // recorded; entries the gradient never reaches cost nothing. `touched` keeps them alive until
  // the pass ends: releasing one drops its inputs, which may be the last owners of upstream
  // entries still waiting for their gradient.
  std::unique_lock<std::recursive_mutex> turn(g_grad_pass_mutex, std::defer_lock);
  if (!capture) turn.lock();
  // A create_graph pass records what it computes, whatever the caller's grad mode (torch's
  // engine runs it with grad mode set to create_graph, so under no_grad too).
  struct RestoreGradMode {
    bool active, on;
    ~RestoreGradMode() {
      if (active) set_grad_enabled(on);
    }
  } const restore{create_graph, create_graph && is_grad_enabled()};
  if (create_graph) set_grad_enabled(true);
  if (capture) capture->create_graph = create_graph;
  const std::uint64_t pass = g_next_pass.fetch_add(1, std::memory_order_relaxed);
  BorrowedLists lists;
  std::vector<NodePtr>& touched = (*lists).touched;
  std::vector<Node*>& ready = (*lists).ready;
  const auto recorded_before = [](const Node* a, const Node* b) { return a->seq < b->seq; };
  const auto release_claims = [&] {
    for (const auto& n : touched) n->pass.store(0, std::memory_order_release);
  };
  try {
    for (auto& [root, seed] : roots) {
      if (!root->node) {  // a leaf: its gradient is the seed itself
        if (create_graph) {
          if (capture)
            capture->add_to_leaf(*root, Tensor(seed));
          else
            accumulate_grad_graph(root->grad, Tensor(seed));
        } else if (!capture) {
          accumulate_grad(root->grad, *root, *seed);
        } else if (TensorImpl* g = capture->leaf_buffer(*root)) {
          add_into(*g, *seed);
        }
        if (!capture) leaf_grad_complete(root);
        continue;
      }
      const NodePtr& start = root->node;
      check_not_released(*start);
      make_room(touched);
      if (claim(*start, pass)) touched.push_back(start);
      if (start->grad) {  // the same result twice among the roots: seeds add up
        if (create_graph)
          start->grad = impl_ptr(Tensor(start->grad) + Tensor(seed));
        else
          add_into(*start->grad, *seed);
        continue;
      }
      start->grad = std::move(seed);
      ready.push_back(start.get());
      std::push_heap(ready.begin(), ready.end(), recorded_before);
    }
    std::optional<HookedLeaves> hooked;
    if (!capture) hooked = find_hooked_leaves(ready);
    const std::uint64_t done_at = capture ? capture->done_at() : 0;
    while (!ready.empty()) {
      std::pop_heap(ready.begin(), ready.end(), recorded_before);
      Node* node = ready.back();
      ready.pop_back();
      assert(node->grad && node->grad->shape == node->out.shape);
      check_versions(*node);
      if (capture) {
        capture->node_ready(*node);
        if (done_at != 0 && !GradCapture::leads_to(*node, done_at)) {
          node->grad.reset();
          continue;
        }
      }
      const std::size_t reached = touched.size();
      if (create_graph) {
        if (!node->has_graph())
          throw StateError(msg("backward: op '", node->op, "' (tape entry #", node->seq,
                               ") has no second derivative in tapegrad yet: create_graph "
                               "cannot go through it"));
        GraphCtx ctx{*node, touched, capture, pass};
        node->run_graph(ctx);
      } else {
        BackwardCtx ctx{*node, touched, capture, pass};
        node->run_backward(ctx);
      }
      for (std::size_t i = reached; i < touched.size(); ++i) {
        ready.push_back(touched[i].get());
        std::push_heap(ready.begin(), ready.end(), recorded_before);
      }
      if (detail::t_anomaly)
        for (const Node::Input& in : node->inputs) {
          const ImplPtr& x = in.t;
          const ImplPtr& g = x->node ? x->node->grad : x->grad;
          if (g) check_finite("a gradient", node->op, node->seq, *g);
        }
      if (hooked) hooked->entry_done(*node);
      if (!capture && node->out_retains_grad.load(std::memory_order_relaxed)) {
        if (create_graph)
          accumulate_grad_graph(node->retained_grad, Tensor(node->grad));
        else
          accumulate_grad(node->retained_grad, node->out, *node->grad);
      }
      node->grad.reset();
      if (!retain_graph) {
        node->release_saved();
        node->released.store(true, std::memory_order_relaxed);
      }
    }
    if (hooked) hooked->pass_done();
    release_claims();
  } catch (...) {
    for (auto& n : touched) n->grad.reset();
    release_claims();
    if (!capture) run_backward_error_hooks();
    throw;
  }
  if (!retain_graph) compact_tape();
  if (!capture) run_post_backward_hooks();
}
}  // namespace tapegrad
