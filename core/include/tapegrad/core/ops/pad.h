// Padding, as torch.nn.functional.pad: (left, right) pairs from the last dim backwards.
#pragma once
#include <cstdint>
#include <vector>

#include "tapegrad/core/tensor.h"

namespace tapegrad {

/// What pad puts in the new elements, as torch's mode argument.
enum class PadMode {
  Constant,   ///< fill with a value; negative pads crop; any dims
  Reflect,    ///< mirror without repeating the edge (pads < the dim's size)
  Replicate,  ///< repeat the edge value
  Circular,   ///< wrap around (pads <= the dim's size)
};

/// x padded by pads = {left_last, right_last, left_second_last, right_second_last, ...}: at
/// most x.dim() pairs. The non-constant modes pad the last 1, 2 or 3 dims of an input with one
/// or two dims before them (unbatched or batched), need non-negative pads and take no value
/// (other than the default 0), as torch's.
/// Differentiable; the gradient of a repeated input element (reflect, replicate, circular) is
/// the sum of its copies'.
Tensor pad(const Tensor& x, const std::vector<std::int64_t>& pads, PadMode mode = PadMode::Constant,
           double value = 0);

/// The mode's name as torch spells it ("constant", "reflect", "replicate", "circular").
const char* pad_mode_name(PadMode mode);

}  // namespace tapegrad
