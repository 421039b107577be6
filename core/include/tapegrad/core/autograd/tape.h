// The tape's controls: grad mode (whether ops record), and views of what is recorded.
#pragma once
#include <cstddef>
#include <string>

#include "tapegrad/core/tensor.h"

namespace tapegrad {

/// Whether ops record on this thread's tape (true unless a NoGradGuard is alive).
bool is_grad_enabled();
/// Turns recording on or off for the calling thread (NoGradGuard does it for a scope).
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

/// What this thread's tape holds right now.
struct TapeStats {
  std::size_t entries = 0;  ///< recorded ops whose results are still reachable
  std::size_t bytes = 0;    ///< values and gradient buffers those entries keep alive
};
/// The number of live tape entries on the calling thread and the bytes they keep alive.
TapeStats tape_stats();

/// One line per live tape entry: "#seq op [in shapes] -> [out shape] bytes".
std::string tape_dump();

/// The graph that produced t, as Graphviz DOT (ops as boxes, leaves as ellipses).
std::string to_dot(const Tensor& t);

}  // namespace tapegrad
