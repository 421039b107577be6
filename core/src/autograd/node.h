// A tape entry (Node) and the context its backward closure runs with (BackwardCtx).
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "runtime/allocator.h"
#include "tensor/tensor_impl.h"

namespace tapegrad {

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
  /// Set by retain_grad on the output, so the backward pass locks out_handle only then (a
  /// weak_ptr lock is two atomic operations per entry).
  std::atomic<bool> out_retains_grad{false};
  BackwardClosure backward;
  ImplPtr grad;  // gradient with respect to the output, alive only during a backward pass
  std::atomic<bool> released{false};  // set by backward, read by the recording thread's tape
  /// The backward pass differentiating this entry right now (0: none). A pass claims every
  /// entry it gives a gradient, so two passes through one graph at once are refused by name
  /// instead of racing on the gradient buffers.
  std::atomic<std::uint64_t> pass{0};
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
  std::uint64_t pass = 0;          // this pass's number, for claiming entries
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

}  // namespace tapegrad
