// Datasets: random access to (features, target) samples, fetched in batches.
#pragma once
#include <cstdint>
#include <utility>
#include <vector>

#include "tapegrad/core/tensor.h"

namespace tapegrad::data {

/// A batch: inputs stacked along dim 0, and their targets.
using Batch = std::pair<Tensor, Tensor>;

/// Random access to (input, target) samples, fetched as batches.
class Dataset {
 public:
  virtual ~Dataset() = default;
  /// Number of samples.
  virtual std::int64_t size() const = 0;
  /// The samples at the given indices, stacked along dim 0.
  virtual Batch get_batch(const std::vector<std::int64_t>& indices) const = 0;
  /// Every sample, in order (for full-batch training and evaluation).
  virtual Batch all() const;
};

/// A dataset over in-memory tensors: inputs (N, ...) and targets (N, ...). Batches are gathered
/// rows (one copy per batch, none per sample); all() returns the tensors themselves.
class TensorDataset : public Dataset {
 public:
  /// Samples from inputs (N, ...) and targets (N, ...): the same N (else ShapeError), neither
  /// 0-d nor undefined (else ValueError). Keeps detached handles, not copies.
  TensorDataset(Tensor inputs, Tensor targets);
  /// Number of samples: inputs' size along dim 0.
  std::int64_t size() const override { return inputs_.size(0); }
  Batch get_batch(const std::vector<std::int64_t>& indices) const override;
  Batch all() const override { return {inputs_, targets_}; }
  /// All inputs (N, ...).
  const Tensor& inputs() const { return inputs_; }
  /// All targets (N, ...).
  const Tensor& targets() const { return targets_; }

 protected:
  TensorDataset() = default;
  /// Sets inputs and targets after checking them as the constructor does (for derived datasets
  /// that read them first).
  void set(Tensor inputs, Tensor targets);

 private:
  Tensor inputs_, targets_;
};

}  // namespace tapegrad::data
