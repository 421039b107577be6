// A tape entry (Node) and the context its backward closure runs with (BackwardCtx).
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <string>
#include <type_traits>
#include <vector>

#include "runtime/allocator.h"
#include "tensor/tensor_impl.h"

namespace tapegrad {

struct BackwardCtx;
struct GraphCtx;

/// How to move, run and destroy one type of backward closure kept in raw bytes (a tape entry's
/// own block): what std::function does, without its allocation for closures past 16 bytes.
/// A closure that can also be called with a GraphCtx has a derivative in recorded ops, for
/// create_graph (run_graph; null when it has none). reads_output: the closure is marked
/// ReadsOutput.
struct ClosureType {
  std::size_t size, align;
  void (*move_to)(void* from, void* to);  // move-constructs the closure at `to`
  void (*run)(void* self, BackwardCtx& c);
  void (*destroy)(void* self) noexcept;
  void (*run_graph)(void* self, GraphCtx& c);
  bool reads_output;

  /// The type of closure F.
  template <typename F>
  static const ClosureType& of() {
    static constexpr ClosureType type{
        sizeof(F),
        alignof(F),
        [](void* from, void* to) { new (to) F(std::move(*static_cast<F*>(from))); },
        [](void* self, BackwardCtx& c) { (*static_cast<F*>(self))(c); },
        [](void* self) noexcept { static_cast<F*>(self)->~F(); },
        graph_of<F>(),
        marked_reads_output<F>()};
    return type;
  }

 private:
  template <typename F>
  static constexpr auto graph_of() -> void (*)(void*, GraphCtx&) {
    if constexpr (std::is_invocable_v<F&, GraphCtx&>)
      return [](void* self, GraphCtx& c) { (*static_cast<F*>(self))(c); };
    else
      return nullptr;
  }
  template <typename F>
  static constexpr bool marked_reads_output() {
    return requires { F::kReadsOutput; };
  }
};

/// A backward closure of both kinds: Fast (BackwardCtx&: the kernels on raw buffers) and
/// Graph (GraphCtx&: the same derivative in recorded ops, for create_graph). Written
/// `WithGraph{[..](BackwardCtx& c) {..}, [..](GraphCtx& c) {..}}` in an op's record().
template <typename Fast, typename Graph>
struct WithGraph : Fast, Graph {
  using Fast::operator();
  using Graph::operator();
};
template <typename Fast, typename Graph>
WithGraph(Fast, Graph) -> WithGraph<Fast, Graph>;

/// A backward closure (of either kind above) that reads the output's values, not only its
/// inputs and the incoming gradient: `ReadsOutput{closure}` in the op's record(). Only such an
/// entry holds a reference to the output's storage, and only its output's version is checked
/// by backward (as PyTorch checks only the tensors an op saves). For every other op that
/// reference was two of the entry's few locked count updates, and kept the output alive.
template <typename F>
struct ReadsOutput : F {
  using F::operator();
  static constexpr bool kReadsOutput = true;
};
template <typename F>
ReadsOutput(F) -> ReadsOutput<F>;
/// closure marked ReadsOutput when kReads, else as it is: for ops whose kernels say at compile
/// time whether their derivative reads the output.
template <bool kReads, typename F>
auto reads_output_if(F closure) {
  if constexpr (kReads)
    return ReadsOutput{std::move(closure)};
  else
    return closure;
}

/// One tape entry: a recorded op with what its backward needs. Owned by its output tensor (and
/// by later entries that consume it), so a graph nobody can reach frees itself: when the last
/// reference goes, destroy() drops everything the entry holds at once; its few bytes stay
/// until the recording thread's tape list lets go of them (tape_state), which stands in for
/// the weak reference shared_ptr would need.
struct Node : RefCounted<Node> {
  /// A new entry with room for n_inputs inputs and a closure of the given type behind it, in
  /// one block from the caching allocator.
  static NodePtr make(std::size_t n_inputs, const ClosureType& closure);
  /// The last reference went: drops what the entry holds, then frees it unless the tape's list
  /// still names it (the list frees it when it next compacts). Entries that this frees in turn
  /// are freed recursively up to a fixed depth and wait on a worklist beyond it, so freeing a
  /// long chain takes bounded stack.
  static void destroy(Node* n) noexcept;
  /// Who frees the entry's memory: the tape's list while it names the entry (kListed), the
  /// entry itself once the list has let go (kUnlisted), the list once the entry is gone (kGone).
  enum TapeState : std::uint8_t { kListed, kUnlisted, kGone };
  std::atomic<std::uint8_t> tape_state{kListed};
  /// The tape's list lets go of n (compaction, or its thread ending): frees n if it is gone,
  /// else leaves the freeing to destroy().
  static void unlist(Node* n) noexcept;

  const char* op = "";
  std::string custom_name;  // owns op's text for user-defined functions
  union {
    std::uint64_t seq = 0;  // position in recording order, across threads: a topological order
    /// destroy()'s worklist, once the last reference has gone and seq is read no more. In
    /// seq's bytes: a field of its own made every entry longer, and some a cache line longer.
    Node* next_dying;
  };
  struct Input {
    ImplPtr t;              // saved value and gradient route
    std::uint32_t version;  // its storage version when recorded
  };
  /// The inputs, stored right behind the entry in its own block (an entry is one allocation).
  class Inputs {
   public:
    Inputs() = default;
    Inputs(const Inputs&) = delete;
    Inputs& operator=(const Inputs&) = delete;
    ~Inputs() { clear(); }
    std::size_t size() const { return size_; }
    std::size_t capacity() const { return capacity_; }
    Input& operator[](std::size_t i) { return data_[i]; }
    const Input& operator[](std::size_t i) const { return data_[i]; }
    Input* begin() { return data_; }
    Input* end() { return data_ + size_; }
    const Input* begin() const { return data_; }
    const Input* end() const { return data_ + size_; }
    /// Adds one (within the room make() gave the entry).
    void push_back(Input in) { new (data_ + size_++) Input(std::move(in)); }
    void clear() noexcept {
      for (std::uint32_t i = 0; i < size_; ++i) data_[i].~Input();
      size_ = 0;
    }

   private:
    friend struct Node;
    Input* data_ = nullptr;
    std::uint32_t size_ = 0, capacity_ = 0;
  };
  Inputs inputs;
  /// Value-only alias of the output (no node: no cycle). Its shape and dtype always; its
  /// storage only when the closure reads the output (ReadsOutput).
  TensorImpl out;
  /// out, with its values: a logic_error naming the op when the closure was not marked
  /// ReadsOutput (its entry keeps none), never a null dereference.
  const TensorImpl& output_values() const {
    if (!out.storage) no_output();
    return out;
  }
  [[noreturn]] void no_output() const;
  std::uint32_t out_version = 0;
  /// Set by retain_grad on the output: the backward pass then accumulates the output's
  /// gradient into retained_grad, which the output's grad() reads (the entry holds it, so the
  /// pass needs no reference to the output's handle).
  std::atomic<bool> out_retains_grad{false};
  ImplPtr retained_grad;
  /// Runs the backward closure (which must still be there: not released).
  void run_backward(BackwardCtx& c) { closure_type_->run(closure_, c); }
  /// Whether the closure has a derivative in recorded ops (create_graph).
  bool has_graph() const { return closure_type_->run_graph != nullptr; }
  /// Runs it (has_graph() must hold).
  void run_graph(GraphCtx& c) { closure_type_->run_graph(closure_, c); }
  ImplPtr grad;  // gradient with respect to the output, alive only during a backward pass
  std::atomic<bool> released{false};  // set by backward, read by the recording thread's tape
  /// The backward pass differentiating this entry right now (0: none). A pass claims every
  /// entry it gives a gradient, so two passes through one graph at once are refused by name
  /// instead of racing on the gradient buffers.
  std::atomic<std::uint64_t> pass{0};
  std::uint64_t hook_pass = 0;  // the last backward pass that counted hooked leaves through it
  std::size_t bytes_held() const;
  /// Releases the saved inputs, the closure and the output's values (after a backward without
  /// retain_graph, and when the last reference goes).
  void release_saved() noexcept;
  Node();  // use make(): an entry lives in the caching allocator's block and on the tape
  ~Node();

  /// The closure's bytes (behind the inputs in the entry's block) and its type; the closure is
  /// moved in by record() and destroyed by release_saved().
  ///@{
  void* closure_ = nullptr;
  const ClosureType* closure_type_ = nullptr;
  bool has_closure_ = false;
  ///@}
  std::size_t block_bytes_ = 0;  // the whole block's size, to give it back
};

struct GradCapture;

/// Passed to a backward closure: saved values, the incoming gradient, and the gradient buffers
/// to accumulate into (+=).
struct BackwardCtx {
  Node& node;
  std::vector<NodePtr>& touched;   // nodes given a gradient during this pass
  GradCapture* capture = nullptr;  // set by grad(): leaves' gradients go there, not to .grad
  std::uint64_t pass = 0;          // this pass's number, for claiming entries
  const TensorImpl& in(std::size_t i) const { return *node.inputs[i].t; }
  /// The output: its values only for a ReadsOutput closure (the others' entries do not keep
  /// them).
  const TensorImpl& out() const { return node.output_values(); }
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

/// Passed to a backward closure's recorded form (create_graph): the saved inputs and the
/// incoming gradient as tensors, with their graphs, and a way to add each input's gradient.
/// Everything it computes is recorded, so the gradients can be differentiated again; nothing
/// is written in place (a gradient may be another's tensor).
struct GraphCtx {
  Node& node;
  std::vector<NodePtr>& touched;
  GradCapture* capture = nullptr;
  std::uint64_t pass = 0;
  /// Input i as recorded (its own graph included: the second derivative runs through it).
  Tensor in(std::size_t i) const { return Tensor(node.inputs[i].t); }
  /// The gradient with respect to the output (recorded, when it came through recorded ops).
  Tensor grad_out() const { return Tensor(node.grad); }
  /// The output's values (a ReadsOutput closure's only), not recorded: a constant here.
  const TensorImpl& out() const { return node.output_values(); }
  /// Whether input i takes a gradient (skip computing one it does not).
  bool needs(std::size_t i) const;
  /// Adds g, in input i's shape and dtype, to input i's gradient; nothing when !needs(i).
  void add(std::size_t i, const Tensor& g);
};

/// g summed over the dimensions broadcasting added or stretched, back to shape (recorded): a
/// broadcasting op's gradient for an input of that shape.
Tensor sum_to(const Tensor& g, const Shape& shape);

}  // namespace tapegrad
