// Archive: named tensors and texts written to one checked file. Checkpoints of models,
// optimizers and training progress all live in archives (format: docs/checkpoint-format.md).
#pragma once
#include <map>
#include <string>
#include <vector>

#include "tapegrad/core/tensor.h"

namespace tapegrad {

/// Named tensors and texts, saved to and loaded from one checked file (as a key-value map: each
/// name holds either a tensor or a text).
class Archive {
 public:
  /// Stores a copy of t's values under name (replacing any entry of that name).
  void put(const std::string& name, const Tensor& t);
  /// Stores a text under name (an optimizer's type, a note).
  void put_text(const std::string& name, const std::string& text);

  /// True when an entry (tensor or text) of that name exists.
  bool contains(const std::string& name) const;
  /// True when an entry of that name exists and holds a tensor.
  bool is_tensor(const std::string& name) const;
  /// The tensor stored under name; throws ValueError naming the entry if absent or a text.
  Tensor get(const std::string& name) const;
  /// The text stored under name; throws ValueError naming the entry if absent or a tensor.
  std::string get_text(const std::string& name) const;
  /// The single value of a one-element tensor entry; throws ValueError naming the file and the
  /// entry when it is absent, a text, or holds other than one value.
  double get_double(const std::string& name) const;
  /// Same, as an integer: the value must also be finite, integral and in int64's range.
  std::int64_t get_int64(const std::string& name) const;
  /// The file this archive was loaded from ("" when built in memory); errors name it.
  const std::string& source() const { return source_; }
  /// All entry names, sorted.
  std::vector<std::string> names() const;
  /// Entry names that start with prefix, sorted.
  std::vector<std::string> names_with_prefix(const std::string& prefix) const;

  /// Writes atomically: a temporary file beside path, flushed to disk, then renamed over path,
  /// so a failure or crash mid-save never leaves a broken file where a good one was.
  void save(const std::string& path) const;
  /// Reads and checks a whole file (magic, version, every size against the file length,
  /// checksum) before returning; any fault throws IoError naming the file and the offset.
  static Archive load(const std::string& path);

 private:
  struct Entry {
    bool is_text = false;
    Tensor tensor;
    std::string text;
  };
  std::map<std::string, Entry> entries_;
  std::string source_;
  std::string where(const std::string& name) const;
};

}  // namespace tapegrad
