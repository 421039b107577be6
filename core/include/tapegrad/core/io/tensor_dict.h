// TensorDict: named tensors in order, the shape of a state dict in every file format tapegrad
// reads and writes (torch.save, safetensors, .npz).
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "tapegrad/core/tensor.h"

namespace tapegrad::io {

/// Named tensors in their file's order (torch's state dict: an ordered name -> tensor map).
/// nn::StateDict is this type, so a loaded file goes straight into Module::load_state_dict.
using TensorDict = std::vector<std::pair<std::string, Tensor>>;

}  // namespace tapegrad::io
