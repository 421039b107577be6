// The functional forms of backward: grad() (torch.autograd.grad) and backward() of several
// outputs at once (torch.autograd.backward).
#pragma once
#include <vector>

#include "tapegrad/core/tensor.h"

namespace tapegrad {

/// Gradients of outputs with respect to inputs, returned instead of accumulated into any .grad
/// (torch.autograd.grad): for gradient penalties, probes and hand-written updates. Each output is
/// weighted by its grad_outputs entry (none: 1 for a one-element output). Inputs are leaves that
/// require grad or results recorded on the tape. An input the outputs do not depend on is an
/// error, or an undefined tensor with allow_unused. The graph is released unless retain_graph.
/// The gradients do not require grad (no double backward). No hook runs.
std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs = {}, bool retain_graph = false,
                         bool allow_unused = false);

/// backward() from several outputs in one pass (torch.autograd.backward): each weighted by its
/// grad_outputs entry, the sum's gradient accumulated into the leaves.
void backward(const std::vector<Tensor>& outputs, const std::vector<Tensor>& grad_outputs = {},
              bool retain_graph = false);

}  // namespace tapegrad
