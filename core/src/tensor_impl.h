// What a Tensor handle points at: storage, shape, dtype and, for results of recorded ops, the
// tape entry (Node) that made them. Internal to tapegrad's libraries; never installed.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "allocator.h"
#include "tapegrad/core/dtype.h"
#include "tapegrad/core/tensor.h"

namespace tapegrad {

/// One 64-byte-aligned block of elements, shared by a tensor and its views.
struct Storage {
  explicit Storage(std::size_t bytes);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  void* data = nullptr;
  std::size_t bytes = 0;
  std::uint32_t version = 0;  // bumped by every in-place update; the tape checks it
};

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

struct TensorImpl {
  Shape shape;
  std::int64_t numel = 0;
  Dtype dtype = kFloat32;
  std::shared_ptr<Storage> storage;
  bool requires_grad = false;  // leaves only; a non-leaf requires grad through its node
  bool retains_grad = false;
  std::shared_ptr<TensorImpl> grad;       // accumulated gradient (leaves, and retain_grad)
  std::shared_ptr<Node> node;             // the tape entry that produced this tensor, if any
  std::unique_ptr<GradHooks> grad_hooks;  // leaves only; usually none

  template <typename T>
  T* data() const {
    return static_cast<T*>(storage->data);
  }
  std::size_t bytes() const { return static_cast<std::size_t>(numel) * dtype_size(dtype); }
};

using ImplPtr = std::shared_ptr<TensorImpl>;

namespace detail {
struct TensorAccess {
  static const ImplPtr& impl(const Tensor& t) { return t.impl_; }
};
}  // namespace detail

/// The implementation behind a handle (null for an undefined tensor).
inline const ImplPtr& impl_ptr(const Tensor& t) { return detail::TensorAccess::impl(t); }

/// A tensor with fresh, uninitialised storage.
ImplPtr make_impl(Shape shape, Dtype dtype);
/// A tensor with fresh zeroed storage.
ImplPtr make_zeros(Shape shape, Dtype dtype);
/// A new handle on src's storage with another shape of the same numel (views, detach).
ImplPtr alias_impl(const TensorImpl& src, const Shape& shape);
/// A copy of src's values in fresh storage of the same shape and dtype.
ImplPtr copy_impl(const TensorImpl& src);

/// Throws StateError when t is undefined; returns its impl.
TensorImpl& impl_of(const Tensor& t, const char* op);

// ---- the tape ----

struct BackwardCtx;
using BackwardClosure = std::function<void(BackwardCtx&)>;

/// One tape entry: a recorded op with what its backward needs. Owned by its output tensor (and
/// by later entries that consume it), so a graph nobody can reach frees itself.
struct Node {
  const char* op = "";
  std::string custom_name;  // owns op's text for user-defined functions
  std::uint64_t seq = 0;    // position in recording order, across threads: a topological order
  struct Input {
    ImplPtr t;              // saved value and gradient route
    std::uint32_t version;  // its storage version when recorded
  };
  std::vector<Input, memory::CachingAllocator<Input>> inputs;
  TensorImpl out;  // value-only alias of the output (no node: no cycle)
  std::uint32_t out_version = 0;
  std::weak_ptr<TensorImpl> out_handle;  // for retain_grad
  BackwardClosure backward;
  ImplPtr grad;  // gradient with respect to the output, alive only during a backward pass
  std::atomic<bool> released{false};  // set by backward, read by the recording thread's tape
  std::uint64_t hook_pass = 0;  // the last backward pass that counted hooked leaves through it
  Node();
  ~Node();
  std::size_t bytes_held() const;
};

struct GradCapture;

/// Passed to a backward closure: saved values, the incoming gradient, and the gradient buffers
/// to accumulate into (+=).
struct BackwardCtx {
  Node& node;
  std::vector<std::shared_ptr<Node>>& touched;  // nodes given a gradient during this pass
  GradCapture* capture = nullptr;  // set by grad(): leaves' gradients go there, not to .grad
  const TensorImpl& in(std::size_t i) const { return *node.inputs[i].t; }
  const TensorImpl& out() const { return node.out; }
  const TensorImpl& grad_out() const { return *node.grad; }
  /// The buffer to add input i's gradient into (zeroed on first use), or nullptr when input i
  /// needs no gradient.
  TensorImpl* grad_in(std::size_t i);
  /// For an elementwise op whose input i matches the output in shape and dtype: the incoming
  /// gradient's buffer, handed over to become input i's gradient, to be overwritten in place
  /// with gx (saving an allocation, a zero fill and a pass). nullptr when anything else could
  /// still read it (a retained gradient, an input that already has a gradient, a leaf): then
  /// use grad_in.
  TensorImpl* steal_grad_out(std::size_t i);
};

/// Whether an op on these inputs would be recorded (grad mode on, some input requires grad).
bool any_requires_grad(const std::vector<Tensor>& ins);

/// Wraps out as a Tensor and, when needed (grad mode on, some input tracked, a floating-point
/// output: int64 results never carry gradients), records one tape entry whose backward is fn.
/// The op name must be a string literal (it is kept by pointer).
Tensor record(const char* op, ImplPtr out, std::initializer_list<Tensor> inputs,
              BackwardClosure fn);
Tensor record(const char* op, ImplPtr out, const std::vector<Tensor>& inputs, BackwardClosure fn);

/// This thread's live tape entries in recording order (after dropping released ones).
std::vector<std::shared_ptr<Node>> live_tape_entries();

/// Where a pass run for grad() puts the gradients asked for, instead of any .grad: one slot per
/// requested tensor, a leaf (matched by address) or a recorded result (matched by its node).
struct GradCapture {
  std::vector<const TensorImpl*> leaves;  // the requested leaf at k, or nullptr
  std::vector<const Node*> nodes;         // the requested result's node at k, or nullptr
  std::vector<ImplPtr> grads;             // what arrived for k (null if nothing did)
  /// The buffer for leaf x's gradient, or nullptr when x was not asked for.
  TensorImpl* leaf_buffer(const TensorImpl& x);
  /// Called as node's backward is about to run: its gradient is complete.
  void node_ready(const Node& node);
};

/// root's seed gradient for a pass: a copy of grad (checked against root's shape and dtype), or
/// 1 for a one-element root given none; throws naming op.
ImplPtr seed_grad(const char* op, const TensorImpl& root, const Tensor& grad);

/// One backward pass from roots, each with its seed gradient (checked by the caller). Without
/// a capture, gradients accumulate into the leaves' .grad and retained results; with one, only
/// into the capture, and no hooks run.
void run_backward(std::vector<std::pair<ImplPtr, ImplPtr>> roots, bool retain_graph,
                  GradCapture* capture);

/// Adds g into the leaf's (or retaining tensor's) grad buffer, allocating it on first use.
void accumulate_grad(TensorImpl& target, const TensorImpl& g);

}  // namespace tapegrad
