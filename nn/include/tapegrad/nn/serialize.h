// Module checkpoints: the state dict (parameters and persistent buffers by hierarchical name)
// in an Archive (tapegrad/core/io/archive.h), under a prefix ("model.") so an optimizer's state and
// training progress can share the same file.
#pragma once
#include <string>

#include "tapegrad/core/io/archive.h"
#include "tapegrad/nn/module.h"

namespace tapegrad::nn {

/// Puts every entry of m's state dict into ar as prefix + name.
void save_state(const Module& m, Archive& ar, const std::string& prefix = "model.");
/// Reads m's state dict from ar and checks it: every name present, none under prefix unexpected,
/// dtypes and shapes matching; changes nothing (ValueError naming the entry). The result, in
/// m's order, is what apply_state copies.
StateDict read_state(const Module& m, const Archive& ar, const std::string& prefix = "model.");
/// Copies a state dict read_state returned for m into m (nothing in it can fail).
void apply_state(Module& m, const StateDict& state);
/// read_state, then apply_state: all of the state dict or, on a mismatch, nothing.
void load_state(Module& m, const Archive& ar, const std::string& prefix = "model.");
/// Throws what load_state would throw for ar, changing nothing.
void check_state(const Module& m, const Archive& ar, const std::string& prefix = "model.");

/// save_state into a fresh archive, written atomically to path.
void save(const Module& m, const std::string& path);
/// Archive::load(path) (fully checked) then load_state; errors name the file.
void load(Module& m, const std::string& path);

}  // namespace tapegrad::nn
