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
/// Copies the state dict from ar into m. Checks first that every name is present, that no name
/// under prefix is unexpected, and that dtypes and shapes match; throws ValueError naming
/// the entry and leaves m untouched on any mismatch.
void load_state(Module& m, const Archive& ar, const std::string& prefix = "model.");
/// Throws what load_state would throw for ar, changing nothing (for whole-run checkpoints).
void check_state(const Module& m, const Archive& ar, const std::string& prefix = "model.");

/// save_state into a fresh archive, written atomically to path.
void save(const Module& m, const std::string& path);
/// Archive::load(path) (fully checked) then load_state; errors name the file.
void load(Module& m, const std::string& path);

}  // namespace tapegrad::nn
