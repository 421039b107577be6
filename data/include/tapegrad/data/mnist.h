// MNIST-style datasets (MNIST, Fashion-MNIST, ...) from the four standard IDX files in a folder.
#pragma once
#include <optional>
#include <string>

#include "tapegrad/data/dataset.h"

namespace tapegrad::data {

/// Which files a dataset reads: the training or the test split.
enum class Split { Train, Test };

/// How MNIST shapes and scales what it reads.
struct MNISTOptions {
  bool flatten = true;                        ///< images as (N, H*W); false gives (N, 1, H, W)
  std::optional<double> mean = std::nullopt;  ///< with std set too, pixels become (x - mean) / std
  std::optional<double> std = std::nullopt;   ///< the divisor of that normalisation
  std::int64_t limit = 0;                     ///< keep only the first `limit` samples (0: all)
};

/// Reads root/train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz] (or t10k-* for
/// the test split). Pixels become float32 in [0, 1]; labels int64. Throws IoError naming the
/// file when one is missing, malformed, or disagrees with the other about the sample count.
class MNIST : public TensorDataset {
 public:
  /// Reads the split's two files from the folder root.
  MNIST(const std::string& root, Split split, MNISTOptions options = {});
  /// The number of classes: the largest label + 1 (10 for MNIST and Fashion-MNIST).
  std::int64_t num_classes() const { return num_classes_; }

 private:
  std::int64_t num_classes_ = 0;
};

/// Fashion-MNIST's class names, in label order.
extern const char* const kFashionClasses[10];

}  // namespace tapegrad::data
