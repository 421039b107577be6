// Recording on the tape: record() is how every op joins it. Each thread has its own tape (a list
// of its entries in recording order, which owns none of them: Node::tape_state); entries are
// owned by the tensors they produced.
#pragma once
#include <initializer_list>
#include <memory>
#include <vector>

#include "autograd/node.h"

namespace tapegrad {

/// Whether an op on these inputs would be recorded (grad mode on, some input requires grad).
bool any_requires_grad(const std::vector<Tensor>& ins);

/// Wraps out as a Tensor and, when needed (grad mode on, some input tracked, a floating-point
/// output: int64 results never carry gradients), records one tape entry whose backward is fn.
/// The op name must be a string literal (it is kept by pointer).
Tensor record(const char* op, ImplPtr out, std::initializer_list<Tensor> inputs,
              BackwardClosure fn);
Tensor record(const char* op, ImplPtr out, const std::vector<Tensor>& inputs, BackwardClosure fn);

/// This thread's live tape entries in recording order (after dropping released ones).
std::vector<NodePtr> live_tape_entries();

/// Drops this thread's released and unreachable entries from its list (after a backward pass).
void compact_tape();

}  // namespace tapegrad
