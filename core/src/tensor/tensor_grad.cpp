// Tensor's autograd flags: requires_grad, leaves, the accumulated gradient and retain_grad.
#include <cstring>

#include "autograd/node.h"
#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/errors.h"
#include "tapegrad/core/tensor.h"
#include "tensor/check.h"

namespace tapegrad {

namespace {
// Where t's gradient lives: a leaf's in its .grad; a result's that retains its gradient, in its
// tape entry (the backward pass reaches entries, not the handles of their results).
ImplPtr& grad_slot(TensorImpl& t) {
  return t.retains_grad && t.node ? t.node->retained_grad : t.grad;
}
}  // namespace

bool Tensor::requires_grad() const {
  const TensorImpl& t = impl_of(*this, "requires_grad");
  return t.requires_grad || t.node != nullptr;
}

const Tensor& Tensor::requires_grad_(bool on) const {
  TensorImpl& t = impl_of(*this, "requires_grad_");
  if (t.node)
    throw StateError(msg("requires_grad_: only leaves can be marked; this tensor comes from op '",
                         t.node->op, "' (use detach() to make a leaf)"));
  if (on && !is_floating(t.dtype))
    throw ValueError(
        msg("requires_grad_: only floating-point tensors can require gradients: "
            "got ",
            dtype_name(t.dtype)));
  t.requires_grad = on;
  return *this;
}

bool Tensor::is_leaf() const { return impl_of(*this, "is_leaf").node == nullptr; }

std::string Tensor::grad_fn() const {
  const TensorImpl& t = impl_of(*this, "grad_fn");
  return t.node ? t.node->op : "";
}

Tensor Tensor::grad() const {
  const ImplPtr& g = grad_slot(impl_of(*this, "grad"));
  return g ? Tensor(g) : Tensor();
}

void Tensor::set_grad(const Tensor& g) const {
  TensorImpl& t = impl_of(*this, "set_grad");
  if (!g.defined()) {
    grad_slot(t).reset();
    return;
  }
  const TensorImpl& ig = *impl_ptr(g);
  if (ig.shape != t.shape || ig.dtype != t.dtype)
    throw ValueError(msg("set_grad: the gradient is ", dtype_name(ig.dtype), " ",
                         shape_str(ig.shape), " but the tensor is ", dtype_name(t.dtype), " ",
                         shape_str(t.shape)));
  check_floating("set_grad", ig);
  grad_slot(t) = impl_ptr(g.detach());  // the same storage, cut from any graph
}

void Tensor::zero_grad() const {
  TensorImpl& t = impl_of(*this, "zero_grad");
  if (const ImplPtr& g = grad_slot(t)) std::memset(g->storage->data, 0, g->bytes());
}

const Tensor& Tensor::retain_grad() const {
  TensorImpl& t = impl_of(*this, "retain_grad");
  if (!t.requires_grad && !t.node)
    throw StateError("retain_grad: the tensor does not require grad");
  if (t.node) {
    t.retains_grad = true;
    t.node->out_retains_grad.store(true, std::memory_order_relaxed);
  }
  return *this;
}

}  // namespace tapegrad
