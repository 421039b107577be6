// The functional forms of backward: grad() (torch.autograd.grad: gradients returned, no .grad
// touched) and backward() from several outputs at once (torch.autograd.backward). Both run the
// tape's one backward pass (run_backward in backward.cpp).
#include "autograd/backward.h"
#include "tapegrad/core/autograd.h"
#include "tensor/check.h"

namespace tapegrad {

namespace {
// The roots of a pass: each output with its seed gradient, checked; throws naming op.
std::vector<std::pair<ImplPtr, ImplPtr>> seeded_roots(const char* op,
                                                      const std::vector<Tensor>& outputs,
                                                      const std::vector<Tensor>& grad_outputs,
                                                      bool create_graph) {
  if (outputs.empty()) throw ValueError(msg(op, ": no outputs given"));
  if (!grad_outputs.empty() && grad_outputs.size() != outputs.size())
    throw ValueError(msg(op, ": ", grad_outputs.size(), " grad_outputs for ", outputs.size(),
                         " outputs (give one per output, or none)"));
  std::vector<std::pair<ImplPtr, ImplPtr>> roots;
  for (std::size_t k = 0; k < outputs.size(); ++k) {
    const TensorImpl& out = impl_of(outputs[k], op);
    if (!out.requires_grad && !out.node)
      throw StateError(msg(op, ": output ", k, " does not require grad"));
    const Tensor none;
    roots.emplace_back(
        impl_ptr(outputs[k]),
        seed_grad(op, out, grad_outputs.empty() ? none : grad_outputs[k], create_graph));
  }
  return roots;
}
}  // namespace

std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs, bool retain_graph,
                         bool allow_unused) {
  return grad(outputs, inputs, grad_outputs,
              {.retain_graph = retain_graph, .allow_unused = allow_unused});
}

std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs, const GradOptions& options) {
  GradCapture capture;
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    const TensorImpl& in = impl_of(inputs[k], "grad");
    if (!in.requires_grad && !in.node)
      throw StateError(msg("grad: input ", k, " does not require grad"));
    capture.leaves.push_back(in.node ? nullptr : &in);
    capture.nodes.push_back(in.node.get());
  }
  capture.grads.resize(inputs.size());
  run_backward(seeded_roots("grad", outputs, grad_outputs, options.create_graph),
               options.retain_graph.value_or(options.create_graph), &capture, options.create_graph);
  std::vector<Tensor> result;
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    if (!capture.grads[k] && !options.allow_unused)
      throw StateError(msg("grad: input ", k,
                           " was not used to compute the outputs (pass allow_unused = true to "
                           "get an undefined tensor for it)"));
    result.push_back(capture.grads[k] ? Tensor(capture.grads[k]) : Tensor());
  }
  return result;
}

void backward(const std::vector<Tensor>& outputs, const std::vector<Tensor>& grad_outputs,
              bool retain_graph) {
  backward(outputs, grad_outputs, BackwardOptions{.retain_graph = retain_graph});
}

void backward(const std::vector<Tensor>& outputs, const std::vector<Tensor>& grad_outputs,
              const BackwardOptions& options) {
  run_backward(seeded_roots("backward", outputs, grad_outputs, options.create_graph),
               options.retain_graph.value_or(options.create_graph), nullptr, options.create_graph);
}

}  // namespace tapegrad
