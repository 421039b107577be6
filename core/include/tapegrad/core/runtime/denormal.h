// Subnormal floats flushed to zero: the CPU mode torch.set_flush_denormal sets.
#pragma once

namespace tapegrad {

/// On: the CPU reads and writes subnormal floats (below 1.2e-38 in float, 2.2e-308 in double)
/// as 0 (x86's flush-to-zero and denormals-are-zero modes), as torch.set_flush_denormal(True).
/// An operation on a subnormal costs an Intel core a microcode assist, about 100 times a
/// normal one, so a model whose values underflow (far-out activations, their gradients) can
/// train several times slower for numbers that weigh nothing next to their neighbours. Off by
/// default, as in torch: results then follow IEEE 754 exactly.
///
/// Applies to the calling thread and to every thread of its parallel regions (the threads
/// tapegrad's kernels and their OpenBLAS products run on); threads the calling thread starts
/// afterwards inherit its mode, every other thread keeps its own. Returns false, changing
/// nothing, in a build for a CPU other than x86-64. StateError inside a parallel region or a
/// piece of split work, where it could not reach the other threads.
bool set_flush_denormal(bool on);

}  // namespace tapegrad
