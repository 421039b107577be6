// The tape: a Wengert list of recorded ops per thread, and grad mode, which says whether ops
// record on it. Entries are owned by the tensors they produced and listed here by weak
// reference, so a graph nobody can reach any more (an evaluation pass, an exception half-way)
// frees itself, and the list is compacted before it can outgrow the live entries by more than a
// factor of two. The backward pass that runs the entries is in backward.cpp.
#include "autograd/tape.h"

#include <algorithm>
#include <atomic>
#include <new>
#include <stdexcept>
#include <string>

#include "autograd/anomaly.h"
#include "runtime/allocator.h"
#include "tapegrad/core/autograd/tape.h"

namespace tapegrad {

namespace {

// A tape entry: not a reference on the node (see Node::tape_state). Its recording number is
// the node's own seq.
struct Entry {
  Node* node;
};

// Recording numbers: each entry's is above its inputs' entries' (this thread's last number, or
// an input's from another thread if that is higher, plus one), so reverse order is a
// topological order even for graphs that cross threads. A per-thread counter instead of one
// shared atomic: an atomic increment on every recorded op was a measurable share of a small
// op's cost, and only the order between an entry and what it consumes matters.
thread_local std::uint64_t t_last_seq = 0;

void free_node(Node* n) noexcept {
  const std::size_t bytes = n->block_bytes_;
  n->~Node();
  memory::deallocate(n, bytes);
}

struct Tape {
  std::vector<Entry> entries;
  std::size_t compact_at = 64;

  // Lets go of entries that are gone or already released; keeps recording order.
  void compact() {
    std::erase_if(entries, [](const Entry& e) {
      const auto state = e.node->tape_state.load(std::memory_order_acquire);
      if (state == Node::kGone) {
        free_node(e.node);  // final: nothing else touches a gone entry, so no locked exchange
        return true;
      }
      if (!e.node->released.load(std::memory_order_relaxed)) return false;
      Node::unlist(e.node);
      return true;
    });
    compact_at = std::max<std::size_t>(64, 2 * entries.size());
  }
  ~Tape() {
    for (const Entry& e : entries) Node::unlist(e.node);
  }
};

thread_local Tape t_tape;
thread_local bool t_grad_enabled = true;

// Whether gradients flow through t: a leaf marked requires_grad, or the result of a recorded op.
bool tracked(const Tensor& t) { return impl_ptr(t)->requires_grad || impl_ptr(t)->node != nullptr; }

}  // namespace

bool is_grad_enabled() { return t_grad_enabled; }
void set_grad_enabled(bool on) { t_grad_enabled = on; }
NoGradGuard::NoGradGuard() : previous_(t_grad_enabled) { t_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { t_grad_enabled = previous_; }

Node::Node() = default;
Node::~Node() = default;

NodePtr Node::make(std::size_t n_inputs, const ClosureType& closure) {
  static_assert(sizeof(Node) % alignof(Node::Input) == 0);
  const std::size_t inputs_end = sizeof(Node) + n_inputs * sizeof(Input);
  const std::size_t at = (inputs_end + closure.align - 1) / closure.align * closure.align;
  const std::size_t bytes = at + closure.size;
  void* block = memory::allocate(bytes);  // 64-byte aligned: enough for any closure we make
  Node* n = new (block) Node;
  n->inputs.data_ = reinterpret_cast<Input*>(n + 1);
  n->inputs.capacity_ = static_cast<std::uint32_t>(n_inputs);
  n->closure_ = static_cast<char*>(block) + at;
  n->closure_type_ = &closure;
  n->block_bytes_ = bytes;
  // Not on a list until record_erased has put it there: if recording fails in between, the
  // entry frees itself.
  n->tape_state.store(kUnlisted, std::memory_order_relaxed);
  return NodePtr::adopt(n);
}

void Node::release_saved() noexcept {
  if (has_closure_) closure_type_->destroy(closure_);
  has_closure_ = false;
  inputs.clear();
  out.storage.reset();
}

namespace {

// Dropping an entry's inputs drops the entries behind them, so freeing a chain recurses once
// per entry: 20,000 recorded products overflowed a thread's stack under ASan. Past kMaxDepth
// nested destroys, an entry waits on this thread's list (linked through its own next_dying)
// and the outermost destroy() frees the waiting ones before returning. Below it the recursion
// stays: a worklist for every entry cost tiny models 3-5% of a training step (B3), and the
// usual graph frees in a few levels.
constexpr unsigned kMaxDepth = 64;
thread_local unsigned t_depth = 0;
thread_local Node* t_dying = nullptr;

void destroy_one(Node* n) noexcept {
  // Everything the entry owns goes now; the list still names the entry by address, so its
  // memory stays while the list does.
  n->release_saved();
  n->grad.reset();
  n->retained_grad.reset();
  n->custom_name = std::string();
  std::uint8_t listed = Node::kListed;
  if (!n->tape_state.compare_exchange_strong(listed, Node::kGone, std::memory_order_acq_rel))
    free_node(n);  // kUnlisted: the list let go first
}
}  // namespace

void Node::destroy(Node* n) noexcept {
  if (t_depth == kMaxDepth) {
    n->next_dying = t_dying;
    t_dying = n;
    return;
  }
  ++t_depth;
  destroy_one(n);
  if (t_depth == 1) {
    while (Node* waiting = t_dying) {
      t_dying = waiting->next_dying;
      destroy_one(waiting);
    }
  }
  --t_depth;
}

void Node::unlist(Node* n) noexcept {
  std::uint8_t listed = kListed;
  if (!n->tape_state.compare_exchange_strong(listed, kUnlisted, std::memory_order_acq_rel))
    free_node(n);  // kGone: the entry went first
}

std::size_t Node::bytes_held() const {
  std::size_t b = 0;
  if (out.storage) b += out.bytes();
  if (grad) b += grad->bytes();
  return b;
}

bool any_requires_grad(const std::vector<Tensor>& ins) {
  return t_grad_enabled && std::any_of(ins.begin(), ins.end(),
                                       [](const Tensor& t) { return t.defined() && tracked(t); });
}

namespace {
const Tensor& as_tensor(const Tensor& t) { return t; }
const Tensor& as_tensor(const std::reference_wrapper<const Tensor>& t) { return t.get(); }

// record_erased for either form of input list.
template <typename In>
Tensor record_inputs(const char* op, ImplPtr out, const In* inputs, std::size_t n_inputs,
                     const ClosureType& type, void* closure) {
  // The one place that decides: integer results never carry gradients (as in PyTorch), so ops
  // written once for every dtype need no branch of their own for int64.
  if (is_floating(out->dtype) && t_grad_enabled &&
      std::any_of(inputs, inputs + n_inputs, [](const In& t) { return tracked(as_tensor(t)); })) {
    static_assert(alignof(std::max_align_t) <= 64);
    if (type.align > 64) throw std::logic_error("record: a closure aligned past 64 bytes");
    NodePtr node = Node::make(n_inputs, type);
    node->op = op;
    std::uint64_t seq = t_last_seq;
    for (std::size_t i = 0; i < n_inputs; ++i) {
      const ImplPtr& x = impl_ptr(as_tensor(inputs[i]));
      if (x->node && x->node->seq > seq) seq = x->node->seq;
      node->inputs.push_back({x, x->storage->version});
    }
    node->seq = t_last_seq = seq + 1;
    node->out.shape = out->shape;
    node->out.numel = out->numel;
    node->out.dtype = out->dtype;
    if (type.reads_output) {
      node->out.storage = out->storage;
      node->out_version = out->storage->version;
    }
    type.move_to(closure, node->closure_);
    node->has_closure_ = true;
    t_tape.entries.push_back({node.get()});
    node->tape_state.store(Node::kListed,
                           std::memory_order_relaxed);  // no other thread sees it yet
    out->node = std::move(node);
    if (t_tape.entries.size() >= t_tape.compact_at) t_tape.compact();
  }
  if (detail::t_anomaly) check_finite("an output", op, out->node ? out->node->seq : 0, *out);
  return Tensor(std::move(out));
}
}  // namespace

Tensor record_erased(const char* op, ImplPtr out, const Tensor* inputs, std::size_t n_inputs,
                     const ClosureType& type, void* closure) {
  return record_inputs(op, std::move(out), inputs, n_inputs, type, closure);
}
Tensor record_erased(const char* op, ImplPtr out,
                     const std::reference_wrapper<const Tensor>* inputs, std::size_t n_inputs,
                     const ClosureType& type, void* closure) {
  return record_inputs(op, std::move(out), inputs, n_inputs, type, closure);
}

void compact_tape() { t_tape.compact(); }

void number_after(std::uint64_t seq) { t_last_seq = std::max(t_last_seq, seq); }

std::vector<NodePtr> live_tape_entries() {
  t_tape.compact();
  std::vector<NodePtr> live;
  for (const Entry& e : t_tape.entries) {
    // A reference taken only while another one exists: an entry whose count reached 0 is being
    // dropped (its memory is safe: the list still names it, and only this thread's list frees).
    std::uint32_t refs = e.node->refs.load(std::memory_order_relaxed);
    while (refs != 0)
      if (e.node->refs.compare_exchange_weak(refs, refs + 1, std::memory_order_acquire)) {
        live.push_back(NodePtr::adopt(e.node));
        break;
      }
  }
  return live;
}

}  // namespace tapegrad
