// User-defined differentiable functions: forward and backward run with recording paused and
// are joined to the tape as a single entry.
#include "tapegrad/core/autograd/function.h"

#include "autograd/tape.h"
#include "kernels/broadcast.h"
#include "kernels/dispatch.h"
#include "tapegrad/core/autograd.h"

namespace tapegrad {

namespace {
void check_count(const std::string& name, const std::vector<Tensor>& grads, std::size_t n) {
  if (grads.size() != n)
    throw ValueError(
        msg(name, ": backward returned ", grads.size(), " gradients for ", n, " inputs"));
}
// Input i's gradient g must have the input's shape and dtype.
void check_grad(const std::string& name, std::size_t i, const TensorImpl& g, const TensorImpl& x) {
  if (g.shape != x.shape || g.dtype != x.dtype)
    throw ShapeError(msg(name, ": backward's gradient for input ", i, " is ", shape_str(g.shape),
                         " ", dtype_name(g.dtype), ", expected ", shape_str(x.shape), " ",
                         dtype_name(x.dtype)));
}

// The entry's closure: both backward forms over one copy of what they share (the context, the
// user's backward, the input count and the name).
struct CustomBackward {
  std::shared_ptr<FunctionCtx> ctx;
  BackwardFn backward;
  std::size_t n;
  std::string name;

  void operator()(BackwardCtx& c) const {
    Tensor g(alias_impl(c.grad_out(), c.grad_out().shape));
    std::vector<Tensor> grads;
    {
      NoGradGuard no_grad;
      grads = backward(*ctx, g);
    }
    check_count(name, grads, n);
    for (std::size_t i = 0; i < n; ++i) {
      if (!grads[i].defined()) continue;
      TensorImpl* gx = c.grad_in(i);
      if (!gx) continue;
      check_grad(name, i, *impl_ptr(grads[i]), *gx);
      add_into(*gx, *impl_ptr(grads[i]));
    }
  }

  // create_graph: backward runs recording (the pass turned grad mode on), so a backward written
  // in tensor ops is differentiable again through the saved inputs and the incoming gradient.
  // A saved output becomes this entry's recorded result (as torch's saved outputs): constant,
  // it would leave out the part of the second derivative that goes through it.
  void operator()(GraphCtx& c) const {
    FunctionCtx recorded = *ctx;
    std::vector<Tensor> saved = ctx->saved();
    for (Tensor& s : saved)
      if (s.defined() && impl_ptr(s)->storage == c.node.out.storage &&
          impl_ptr(s)->shape == c.node.out.shape && !impl_ptr(s)->node &&
          !impl_ptr(s)->requires_grad) {
        ImplPtr self = alias_impl(c.node.out, c.node.out.shape);
        c.node.refs.fetch_add(1, std::memory_order_relaxed);  // held by the pass: alive
        self->node = NodePtr::adopt(&c.node);
        s = Tensor(std::move(self));
      }
    recorded.save_for_backward(std::move(saved));
    const std::vector<Tensor> grads = backward(recorded, c.grad_out());
    check_count(name, grads, n);
    for (std::size_t i = 0; i < n; ++i) {
      if (!grads[i].defined() || !c.needs(i)) continue;
      check_grad(name, i, *impl_ptr(grads[i]), *c.node.inputs[i].t);
      c.add(i, grads[i]);
    }
  }
};
}  // namespace

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
  Tensor r =
      record("custom", y, inputs,
             ReadsOutput{CustomBackward{std::move(ctx), std::move(backward), inputs.size(), name}});
  Node& node = *impl_ptr(r)->node;
  node.custom_name = name;
  node.op = node.custom_name.c_str();
  return r;
}

}  // namespace tapegrad
