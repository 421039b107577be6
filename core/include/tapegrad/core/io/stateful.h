// The shape every stateful piece of a training run saves and loads in (optimizers, schedules,
// whole-run checkpoints): read and check everything into a value, then apply it. A load that
// throws has changed nothing, and a checkpoint of many pieces reads them all before it applies
// any.
#pragma once
#include <memory>
#include <string>

#include "tapegrad/core/io/archive.h"

namespace tapegrad {

/// A state read from an Archive and checked, not yet applied: each Stateful's own type.
struct LoadedState {
  virtual ~LoadedState() = default;
};

/// Something whose state a checkpoint saves and restores: save_state, then a load in two phases
/// (read_state checks everything, apply_state cannot fail).
class Stateful {
 public:
  virtual ~Stateful() = default;
  /// Puts the state into ar, under entry names that start with prefix.
  virtual void save_state(Archive& ar, const std::string& prefix) const = 0;
  /// Reads every entry under prefix and checks it, into a value; changes nothing. Throws
  /// ValueError naming the entry (and, through Archive, the file).
  virtual std::unique_ptr<LoadedState> read_state(const Archive& ar,
                                                  const std::string& prefix) const = 0;
  /// Applies what this object's read_state returned. Nothing in it can fail.
  virtual void apply_state(LoadedState& state) = 0;
  /// read_state, then apply_state: the whole state or, on a throw, nothing.
  void load_state(const Archive& ar, const std::string& prefix) {
    const std::unique_ptr<LoadedState> state = read_state(ar, prefix);
    apply_state(*state);
  }
  /// Throws what load_state would throw, changing nothing.
  void check_state(const Archive& ar, const std::string& prefix) const { read_state(ar, prefix); }
};

}  // namespace tapegrad
