// The functional forms of backward: grad() (torch.autograd.grad) and backward() of several
// outputs at once (torch.autograd.backward).
#pragma once
#include <optional>
#include <vector>

#include "tapegrad/core/tensor.h"

namespace tapegrad {

/// grad()'s settings, torch.autograd.grad's keywords.
struct GradOptions {
  /// Keep the graph for another backward through it; unset: create_graph's value, as in torch.
  std::optional<bool> retain_graph = std::nullopt;
  /// Record the backward pass itself, so that the gradients require grad and can be
  /// differentiated again, to any order (gradient penalties, Hessian-vector products). Works
  /// under NoGradGuard too, as torch's does.
  bool create_graph = false;
  /// An input the outputs do not depend on gets an undefined tensor instead of an error.
  bool allow_unused = false;
};

/// backward()'s settings (torch.autograd.backward's keywords).
struct BackwardOptions {
  /// Keep the graph for another backward through it; unset: create_graph's value.
  std::optional<bool> retain_graph = std::nullopt;
  /// Record the backward pass: the leaves' .grad then have graphs of their own (each leaf's
  /// in storage of its own), and can be differentiated again.
  bool create_graph = false;
};

/// Gradients of outputs with respect to inputs, returned instead of accumulated into any .grad
/// (torch.autograd.grad): for gradient penalties, probes and hand-written updates. Each output is
/// weighted by its grad_outputs entry (none: 1 for a one-element output). Inputs are leaves that
/// require grad or results recorded on the tape. An input the outputs do not depend on is an
/// error, or an undefined tensor with allow_unused. The graph is released unless retain_graph.
/// No hook runs. Without create_graph the gradients do not require grad.
std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs, const GradOptions& options);
/// grad() with its options as positional flags (create_graph off).
std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs = {}, bool retain_graph = false,
                         bool allow_unused = false);

/// backward() from several outputs in one pass (torch.autograd.backward): each weighted by its
/// grad_outputs entry, the sum's gradient accumulated into the leaves.
void backward(const std::vector<Tensor>& outputs, const std::vector<Tensor>& grad_outputs,
              const BackwardOptions& options);
/// backward() with retain_graph as a positional flag (create_graph off).
void backward(const std::vector<Tensor>& outputs, const std::vector<Tensor>& grad_outputs = {},
              bool retain_graph = false);

}  // namespace tapegrad
