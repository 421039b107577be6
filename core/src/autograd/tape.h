// Recording on the tape: record() is how every op joins it. Each thread has its own tape (a list
// of its entries in recording order, which owns none of them: Node::tape_state); entries are
// owned by the tensors they produced.
#pragma once
#include <cstddef>
#include <functional>
#include <initializer_list>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

#include "autograd/node.h"

namespace tapegrad {

/// Whether an op on these inputs would be recorded (grad mode on, some input requires grad).
bool any_requires_grad(const std::vector<Tensor>& ins);

/// record()'s work for a closure of any type: `closure` points at one of `type`, moved into
/// the entry when one is recorded (and left alone otherwise). The inputs as handles or as
/// references to them.
///@{
Tensor record_erased(const char* op, ImplPtr out, const Tensor* inputs, std::size_t n_inputs,
                     const ClosureType& type, void* closure);
Tensor record_erased(const char* op, ImplPtr out,
                     const std::reference_wrapper<const Tensor>* inputs, std::size_t n_inputs,
                     const ClosureType& type, void* closure);
///@}

/// Wraps out as a Tensor and, when needed (grad mode on, some input tracked, a floating-point
/// output: int64 results never carry gradients), records one tape entry whose backward is fn,
/// a callable taking BackwardCtx&, kept in the entry's own block (no allocation of its own).
/// The op name must be a string literal (it is kept by pointer). A closure that reads the
/// output's values (BackwardCtx::out()) must be wrapped in ReadsOutput: only then does the entry
/// keep them.
/// The braced inputs are references, not copies: a copied handle costs two atomic count
/// updates, and an op names each input on the way in (a braced temporary, which a reference
/// cannot name, takes the vector form below instead).
template <typename F>
Tensor record(const char* op, ImplPtr out,
              std::initializer_list<std::reference_wrapper<const Tensor>> inputs, F&& fn) {
  std::decay_t<F> closure(std::forward<F>(fn));
  return record_erased(op, std::move(out), inputs.begin(), inputs.size(),
                       ClosureType::of<std::decay_t<F>>(), &closure);
}
/// The same for inputs in a vector.
template <typename F>
Tensor record(const char* op, ImplPtr out, const std::vector<Tensor>& inputs, F&& fn) {
  std::decay_t<F> closure(std::forward<F>(fn));
  return record_erased(op, std::move(out), inputs.data(), inputs.size(),
                       ClosureType::of<std::decay_t<F>>(), &closure);
}

/// Entries this thread records from now on are numbered above `seq` (their order stays
/// topological): a derivative that recomputes its op from fresh aliases of its inputs calls it
/// with its inputs' largest number first, so that every alias comes after every input, which
/// grad()'s pruning needs to keep its inner pass out of the inputs' graphs.
void number_after(std::uint64_t seq);

/// This thread's live tape entries in recording order (after dropping released ones).
std::vector<NodePtr> live_tape_entries();

/// Drops this thread's released and unreachable entries from its list (after a backward pass).
void compact_tape();

}  // namespace tapegrad
