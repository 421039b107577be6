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

/// Adds g into a gradient buffer (a leaf's .grad, a retaining result's node's retained_grad),
/// allocating it zeroed in like's shape and dtype on first use.
void accumulate_grad(ImplPtr& slot, const TensorImpl& like, const TensorImpl& g);

}  // namespace tapegrad
