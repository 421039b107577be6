// The backward pass: one walk from any number of roots, shared by Tensor::backward, backward()
// of several outputs and grad().
#pragma once
#include <memory>
#include <utility>
#include <vector>

#include "autograd/node.h"

namespace tapegrad {

/// Where a pass run for grad() puts the gradients asked for, instead of any .grad: one slot per
/// requested tensor, a leaf (matched by address) or a recorded result (matched by its node).
struct GradCapture {
  std::vector<const TensorImpl*> leaves;  // the requested leaf at k, or nullptr
  std::vector<const Node*> nodes;         // the requested result's node at k, or nullptr
  std::vector<ImplPtr> grads;             // what arrived for k (null if nothing did)
  bool create_graph = false;              // grads are recorded tensors, kept as they come
  /// The buffer for leaf x's gradient, or nullptr when x was not asked for.
  TensorImpl* leaf_buffer(const TensorImpl& x);
  /// Whether leaf x was asked for.
  bool wants(const TensorImpl& x) const;
  /// create_graph: adds g to leaf x's gradient (recorded, out of place), when x was asked for.
  void add_to_leaf(const TensorImpl& x, const Tensor& g);
  /// Called as node's backward is about to run: its gradient is complete.
  void node_ready(const Node& node);
  /// When every requested tensor is a recorded result: the earliest one's entry number, past
  /// which no entry leads to any (0 when a leaf is requested: every entry may lead to it).
  std::uint64_t done_at() const;
  /// Whether an input of node was recorded at or after done_at (only such entries are run).
  static bool leads_to(const Node& node, std::uint64_t done_at);
};

/// root's seed gradient for a pass: a copy of grad (checked against root's shape and dtype), or
/// 1 for a one-element root given none; throws naming op. create_graph: grad itself, with its
/// graph (a gradient that depends on grad_outputs is what the double-vjp form of jvp needs).
ImplPtr seed_grad(const char* op, const TensorImpl& root, const Tensor& grad,
                  bool create_graph = false);

/// One backward pass from roots, each with its seed gradient (checked by the caller). Without
/// a capture, gradients accumulate into the leaves' .grad and retained results; with one, only
/// into the capture, and no hooks run. create_graph: each entry's derivative runs as recorded
/// ops (GraphCtx), so the gradients have graphs of their own; an entry without that form is an
/// error naming its op.
void run_backward(std::vector<std::pair<ImplPtr, ImplPtr>> roots, bool retain_graph,
                  GradCapture* capture, bool create_graph = false);

/// Adds g into a gradient buffer (a leaf's .grad, a retaining result's node's retained_grad),
/// allocating it zeroed in like's shape and dtype on first use. A buffer a create_graph pass
/// left (one with a graph) is replaced by a plain copy first, never written in place.
void accumulate_grad(ImplPtr& slot, const TensorImpl& like, const TensorImpl& g);
/// The same for a create_graph pass: slot becomes slot + g, recorded, in fresh storage (g
/// itself may be another gradient's tensor).
void accumulate_grad_graph(ImplPtr& slot, const Tensor& g);

}  // namespace tapegrad
