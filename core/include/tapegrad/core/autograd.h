// Controls of the tape: grad mode, anomaly detection, and views of what is recorded.
#pragma once
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

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

/// Gradients of outputs with respect to inputs, returned instead of accumulated into any .grad
/// (torch.autograd.grad): for gradient penalties, probes and hand-written updates. Each output is
/// weighted by its grad_outputs entry (none: 1 for a one-element output). Inputs are leaves that
/// require grad or results recorded on the tape. An input the outputs do not depend on is an
/// error, or an undefined tensor with allow_unused. The graph is released unless retain_graph.
/// The gradients do not require grad (no double backward). No hook runs.
std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs = {}, bool retain_graph = false,
                         bool allow_unused = false);

/// backward() from several outputs in one pass (torch.autograd.backward): each weighted by its
/// grad_outputs entry, the sum's gradient accumulated into the leaves.
void backward(const std::vector<Tensor>& outputs, const std::vector<Tensor>& grad_outputs = {},
              bool retain_graph = false);

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
