// Anomaly mode: while on, every op's output and every gradient the backward pass computes is
// checked for NaN and Inf, and the first that holds one throws naming the op that made it.
#include "autograd/anomaly.h"

#include "kernels/dispatch.h"
#include "tapegrad/core/autograd/anomaly.h"

namespace tapegrad {

namespace detail {
constinit thread_local bool t_anomaly = false;
}  // namespace detail

using detail::t_anomaly;

bool is_anomaly_enabled() { return t_anomaly; }
void set_detect_anomaly(bool on) { t_anomaly = on; }
DetectAnomalyGuard::DetectAnomalyGuard() : previous_(t_anomaly) { t_anomaly = true; }
DetectAnomalyGuard::~DetectAnomalyGuard() { t_anomaly = previous_; }

bool has_non_finite(const TensorImpl& t) {
  return dispatch_float(t.dtype, "anomaly",
                        [&]<typename T>() { return !cvec<T>(t).isFinite().all(); });
}

void check_finite(const char* what, const char* op, std::uint64_t seq, const TensorImpl& t) {
  if (is_floating(t.dtype) && has_non_finite(t))
    throw AnomalyError(msg("anomaly: op '", op, "' (tape entry #", seq, ") produced ", what,
                           " with NaN or Inf, shape ", shape_str(t.shape)));
}

}  // namespace tapegrad
