// The tape: a Wengert list of recorded ops per thread, and grad mode, which says whether ops
// record on it. Entries are owned by the tensors they produced and listed here by weak
// reference, so a graph nobody can reach any more (an evaluation pass, an exception half-way)
// frees itself, and the list is compacted before it can outgrow the live entries by more than a
// factor of two. The backward pass that runs the entries is in backward.cpp.
#include "autograd/tape.h"

#include <algorithm>
#include <atomic>
#include <new>
#include <string>

#include "autograd/anomaly.h"
#include "runtime/allocator.h"
#include "tapegrad/core/autograd/tape.h"

namespace tapegrad {

namespace {

struct Entry {
  std::uint64_t seq;
  Node* node;  // not a reference: see Node::tape_state
};

// Recording order across all threads: an op's inputs were recorded before it (on this thread, or
// on another one that handed the tensor over through a synchronisation), so they always have
// smaller numbers, and reverse order is a topological order even for graphs that cross threads.
std::atomic<std::uint64_t> g_next_seq{1};

struct Tape {
  std::vector<Entry> entries;
  std::size_t compact_at = 64;

  // Lets go of entries that are gone or already released; keeps recording order.
  void compact() {
    std::erase_if(entries, [](const Entry& e) {
      const auto state = e.node->tape_state.load(std::memory_order_acquire);
      if (state != Node::kGone && !e.node->released.load(std::memory_order_relaxed)) return false;
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

namespace {
std::size_t node_block_bytes(std::size_t n_inputs) {
  return sizeof(Node) + n_inputs * sizeof(Node::Input);
}
}  // namespace

NodePtr Node::make(std::size_t n_inputs) {
  static_assert(sizeof(Node) % alignof(Node::Input) == 0);
  Node* n = new (memory::allocate(node_block_bytes(n_inputs))) Node;
  n->inputs.data_ = reinterpret_cast<Input*>(n + 1);
  n->inputs.capacity_ = static_cast<std::uint32_t>(n_inputs);
  return NodePtr::adopt(n);
}

void Node::release_saved() noexcept {
  backward = nullptr;
  inputs.clear();
  out.storage.reset();
}

namespace {
void free_node(Node* n) noexcept {
  const std::size_t bytes = node_block_bytes(n->inputs.capacity());
  n->~Node();
  memory::deallocate(n, bytes);
}
}  // namespace

void Node::destroy(Node* n) noexcept {
  // Everything the entry owns goes now (upstream entries may go with it); the list still names
  // the entry by address, so its memory stays while the list does.
  n->release_saved();
  n->grad.reset();
  n->retained_grad.reset();
  n->custom_name = std::string();
  std::uint8_t listed = kListed;
  if (!n->tape_state.compare_exchange_strong(listed, kGone, std::memory_order_acq_rel))
    free_node(n);  // kUnlisted: the list let go first
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
template <typename Range>
Tensor record_range(const char* op, ImplPtr out, const Range& inputs, BackwardClosure fn) {
  // The one place that decides: integer results never carry gradients (as in PyTorch), so ops
  // written once for every dtype need no branch of their own for int64.
  if (is_floating(out->dtype) && t_grad_enabled &&
      std::any_of(inputs.begin(), inputs.end(), tracked)) {
    NodePtr node = Node::make(inputs.size());
    node->op = op;
    node->seq = g_next_seq.fetch_add(1, std::memory_order_relaxed);
    for (const Tensor& t : inputs)
      node->inputs.push_back({impl_ptr(t), impl_ptr(t)->storage->version});
    node->out.shape = out->shape;
    node->out.numel = out->numel;
    node->out.dtype = out->dtype;
    node->out.storage = out->storage;
    node->out_version = out->storage->version;
    node->backward = std::move(fn);
    out->node = node;
    t_tape.entries.push_back({node->seq, node.get()});
    if (t_tape.entries.size() >= t_tape.compact_at) t_tape.compact();
  }
  if (detail::t_anomaly) check_finite("an output", op, out->node ? out->node->seq : 0, *out);
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

void compact_tape() { t_tape.compact(); }

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
