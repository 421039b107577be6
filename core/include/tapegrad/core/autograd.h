// Controls of the tape: grad mode, anomaly detection, and views of what is recorded.
#pragma once
#include <cstddef>
#include <functional>
#include <string>

#include "tapegrad/core/memory.h"
#include "tapegrad/core/tensor.h"

namespace tapegrad {

/// Whether ops record on this thread's tape (true unless a NoGradGuard is alive).
bool is_grad_enabled();
void set_grad_enabled(bool on);

/// RAII: nothing is recorded while it lives (evaluation loops, optimizer steps).
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

/// Registers fn to run after every backward() that completes (on the thread that ran it), e.g.
/// to reduce gradients across processes (dist::DistributedDataParallel). Returns a handle for
/// remove_post_backward_hook. Hooks run in registration order; one that throws makes backward
/// throw (the gradients are already in place).
int add_post_backward_hook(std::function<void()> fn);
void remove_post_backward_hook(int handle);

/// Whether anomaly mode checks every output and gradient for NaN/Inf (slow; for debugging).
bool is_anomaly_enabled();
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

/// What this thread's tape holds right now.
struct TapeStats {
  std::size_t entries = 0;  ///< recorded ops whose results are still reachable
  std::size_t bytes = 0;    ///< values and gradient buffers those entries keep alive
};
TapeStats tape_stats();

/// One line per live tape entry: "#seq op [in shapes] -> [out shape] bytes".
std::string tape_dump();

/// The graph that produced t, as Graphviz DOT (ops as boxes, leaves as ellipses).
std::string to_dot(const Tensor& t);

}  // namespace tapegrad
