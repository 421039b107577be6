// A dataset from a CSV file of numbers: one sample per line, feature columns and one target.
#pragma once
#include <string>

#include "tapegrad/data/dataset.h"

namespace tapegrad::data {

/// How CSVDataset reads a file.
struct CSVOptions {
  int label_column = -1;       ///< which column is the target; negative counts from the end
  bool header = true;          ///< skip the first line
  char delimiter = ',';        ///< the field separator
  bool classification = true;  ///< targets as int64 class indices; false: float32 values
  bool allow_nan = false;      ///< keep NaN fields (missing values) instead of refusing them
};

/// Features become float32 (N, F); targets int64 (N) or float32 (N, 1). Every line must have
/// the same number of numeric fields; errors name the file, line and column. A blank field is
/// not a number; NaN is refused unless allow_nan; class labels must be integers >= 0.
class CSVDataset : public TensorDataset {
 public:
  /// Reads the whole file at path; IoError naming the file, line and column for a bad field.
  explicit CSVDataset(const std::string& path, CSVOptions options = {});
};

}  // namespace tapegrad::data
