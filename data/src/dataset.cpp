// Dataset's default all(), and TensorDataset.
#include "tapegrad/data/dataset.h"

#include <numeric>

#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/errors.h"
#include "tapegrad/core/ops.h"

namespace tapegrad::data {

Batch Dataset::all() const {
  std::vector<std::int64_t> idx(static_cast<std::size_t>(size()));
  std::iota(idx.begin(), idx.end(), 0);
  return get_batch(idx);
}

TensorDataset::TensorDataset(Tensor inputs, Tensor targets) {
  set(std::move(inputs), std::move(targets));
}

void TensorDataset::set(Tensor inputs, Tensor targets) {
  if (!inputs.defined() || !targets.defined() || inputs.dim() == 0 || targets.dim() == 0)
    throw ValueError("TensorDataset: inputs and targets must be tensors with a sample dim");
  if (inputs.size(0) != targets.size(0))
    throw ShapeError(msg("TensorDataset: ", inputs.size(0), " inputs but ", targets.size(0),
                         " targets (shapes ", shape_str(inputs.shape()), " and ",
                         shape_str(targets.shape()), ")"));
  inputs_ = inputs.detach();
  targets_ = targets.detach();
}

Batch TensorDataset::get_batch(const std::vector<std::int64_t>& indices) const {
  const Tensor idx = from_vector(indices);
  return {index_select(inputs_, 0, idx), index_select(targets_, 0, idx)};
}

}  // namespace tapegrad::data
