// Post-backward hooks: functions run after every backward pass, or when one throws (gradient
// hooks on one leaf are Tensor::register_post_accumulate_grad_hook).
#pragma once
#include <functional>

namespace tapegrad {

/// Registers fn to run after every backward() that completes (on the thread that ran it), e.g.
/// to reduce gradients across processes (dist::DistributedDataParallel). Returns a handle for
/// remove_post_backward_hook. Hooks run in registration order; one that throws makes backward
/// throw (the gradients are already in place).
int add_post_backward_hook(std::function<void()> fn);
/// Registers fn to run when a backward() throws, on its thread, before the exception leaves
/// backward(): for work a pass began that its post-backward hook would have finished
/// (dist::DistributedDataParallel's reductions in flight, which write into the gradients). An
/// exception from fn is dropped: backward() reports its own. Returns a handle for
/// remove_post_backward_hook.
int add_backward_error_hook(std::function<void()> fn);
/// Removes the hook registered under handle (add_post_backward_hook's or
/// add_backward_error_hook's result); an unknown handle is ignored.
void remove_post_backward_hook(int handle);

}  // namespace tapegrad
