// Anomaly mode's internals: the per-thread switch the tape and the backward pass read on every
// entry, and the check they run while it is on.
#pragma once
#include <cstdint>

#include "tensor/tensor_impl.h"

namespace tapegrad {
namespace detail {
/// This thread's anomaly mode (is_anomaly_enabled()), read directly on every recorded op.
extern constinit thread_local bool t_anomaly;
}  // namespace detail

/// True when any element is NaN or Inf.
bool has_non_finite(const TensorImpl& t);

/// Throws AnomalyError naming the op and its tape entry when t (a floating-point output or
/// gradient, described by what) holds a NaN or Inf.
void check_finite(const char* what, const char* op, std::uint64_t seq, const TensorImpl& t);

}  // namespace tapegrad
