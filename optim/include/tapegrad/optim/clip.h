// Gradient clipping, the answer to exploding gradients (torch.nn.utils.clip_grad_*, 1.13).
#pragma once
#include <limits>
#include <vector>

#include "tapegrad/core/tensor.h"

namespace tapegrad::optim {

/// The norm_type of the infinity norm: the largest |element|.
inline constexpr double kInfNorm = std::numeric_limits<double>::infinity();

/// Scales all gradients together so their joint norm is at most max_norm: one norm over every
/// parameter's gradient (norm_type p > 0, or kInfNorm), then g *= min(1, max_norm / (total +
/// 1e-6)). Returns the norm before clipping. A NaN/Inf norm throws ValueError when
/// error_if_nonfinite, and otherwise propagates into the gradients as in PyTorch.
double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm, double norm_type = 2,
                       bool error_if_nonfinite = false);
/// Clamps every gradient element to [-clip_value, clip_value].
void clip_grad_value_(const std::vector<Tensor>& params, double clip_value);

}  // namespace tapegrad::optim
