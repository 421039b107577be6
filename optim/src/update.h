// What every built-in update rule uses: Eigen arrays over a parameter, its gradient and its
// state buffers, and a split of the elements across threads for big parameters.
#pragma once
#include "kernels.h"
#include "tapegrad/optim/optimizer.h"

namespace tapegrad::optim {

/// A tensor's storage as a flat Eigen array of T.
template <typename T>
Eigen::Map<ArrayX<T>> arr(const Tensor& t) {
  return vec<T>(*t.impl());
}

/// Calls rule.template operator()<T>(begin, count) over chunks of the parameter's elements,
/// with T its element type; each chunk is updated by one thread.
template <typename Rule>
void update_elements(const char* optimizer, const Tensor& p, Rule rule) {
  dispatch_float(p.dtype(), optimizer, [&]<typename T>() {
    parallel_chunks(p.numel(), [&](std::int64_t b, std::int64_t e) {
      rule.template operator()<T>(b, e - b);
    });
  });
}

}  // namespace tapegrad::optim
