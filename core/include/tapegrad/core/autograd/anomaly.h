// Anomaly mode: every output and gradient checked for NaN and Inf, the first op that makes one
// named (torch.autograd.detect_anomaly).
#pragma once

namespace tapegrad {

/// Whether anomaly mode checks every output and gradient for NaN/Inf (slow; for debugging).
bool is_anomaly_enabled();
/// Turns anomaly mode on or off for the calling thread (DetectAnomalyGuard does it for a scope).
void set_detect_anomaly(bool on);

/// RAII: anomaly mode on while it lives; the first op whose output or gradient is not finite
/// throws AnomalyError naming the op and its place on the tape.
class DetectAnomalyGuard {
 public:
  DetectAnomalyGuard();
  ~DetectAnomalyGuard();
  DetectAnomalyGuard(const DetectAnomalyGuard&) = delete;
  DetectAnomalyGuard& operator=(const DetectAnomalyGuard&) = delete;

 private:
  bool previous_;
};

}  // namespace tapegrad
