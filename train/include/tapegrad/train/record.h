// Record: named numbers in the order they were set, one row of a training run (epoch, losses,
// metrics, lr). Callbacks, MetricsLog, EarlyStopping and Checkpointer all read these.
#pragma once
#include <cstddef>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

namespace tapegrad::train {

/// Named numbers in the order they were first set: one row of a training run.
class Record {
 public:
  /// A name and its value.
  using Item = std::pair<std::string, double>;
  Record() = default;
  /// The items in order, e.g. {{"epoch", 1}, {"train_loss", 0.42}}; a repeated name keeps its
  /// first place and its last value.
  Record(std::initializer_list<Item> items);

  /// Replaces the value of name, or appends it.
  Record& set(const std::string& name, double value);
  /// The value of name; ValueError naming it and the names present when it is missing.
  double get(const std::string& name) const;
  /// The value of name, or nullptr.
  const double* find(const std::string& name) const;
  /// True when name is set.
  bool has(const std::string& name) const { return find(name) != nullptr; }

  /// The first (name, value), in order.
  std::vector<Item>::const_iterator begin() const { return items_.begin(); }
  /// Past the last item.
  std::vector<Item>::const_iterator end() const { return items_.end(); }
  /// Number of names.
  std::size_t size() const { return items_.size(); }
  /// True when no name is set.
  bool empty() const { return items_.empty(); }
  /// "name value, name value" for messages.
  std::string str() const;

 private:
  std::vector<Item> items_;
};

}  // namespace tapegrad::train
