// User-defined differentiable functions: forward and backward run with recording paused and
// are joined to the tape as a single entry.
#include "tapegrad/core/autograd/function.h"

#include "autograd/tape.h"
#include "kernels/broadcast.h"
#include "kernels/dispatch.h"
#include "tapegrad/core/autograd.h"

namespace tapegrad {

Tensor apply_function(const std::string& name, const std::vector<Tensor>& inputs, ForwardFn forward,
                      BackwardFn backward) {
  for (std::size_t i = 0; i < inputs.size(); ++i)
    if (!inputs[i].defined()) throw StateError(msg(name, ": input ", i, " is undefined"));
  auto ctx = std::make_shared<FunctionCtx>();
  Tensor out;
  {
    NoGradGuard no_grad;
    out = forward(*ctx, inputs);
  }
  if (!out.defined()) throw StateError(msg(name, ": forward returned an undefined tensor"));
  // A fresh handle on the result's storage, so the tape entry never lands on an input's handle.
  ImplPtr y = alias_impl(*impl_ptr(out), out.shape());
  if (!any_requires_grad(inputs) || !is_floating(y->dtype)) return Tensor(y);
  const std::size_t n = inputs.size();
  Tensor r = record("custom", y, inputs, [ctx, backward, n, name](BackwardCtx& c) {
    Tensor g(alias_impl(c.grad_out(), c.grad_out().shape));
    std::vector<Tensor> grads;
    {
      NoGradGuard no_grad;
      grads = backward(*ctx, g);
    }
    if (grads.size() != n)
      throw ValueError(
          msg(name, ": backward returned ", grads.size(), " gradients for ", n, " inputs"));
    for (std::size_t i = 0; i < n; ++i) {
      if (!grads[i].defined()) continue;
      TensorImpl* gx = c.grad_in(i);
      if (!gx) continue;
      const TensorImpl& gi = *impl_ptr(grads[i]);
      if (gi.shape != gx->shape || gi.dtype != gx->dtype)
        throw ShapeError(msg(name, ": backward's gradient for input ", i, " is ",
                             shape_str(gi.shape), " ", dtype_name(gi.dtype), ", expected ",
                             shape_str(gx->shape), " ", dtype_name(gx->dtype)));
      add_into(*gx, gi);
    }
  });
  Node& node = *impl_ptr(r)->node;
  node.custom_name = name;
  node.op = node.custom_name.c_str();
  return r;
}

}  // namespace tapegrad
