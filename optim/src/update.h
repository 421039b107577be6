// What every built-in update rule uses: Eigen arrays over a parameter, its gradient and its
// state buffers, and a split of the elements across threads for big parameters.
#pragma once
#include <algorithm>

#include "kernels/dispatch.h"
#include "runtime/parallel_chunks.h"
#include "tapegrad/optim/optimizer.h"

namespace tapegrad::optim {

/// A tensor's storage as a flat Eigen array of T.
template <typename T>
Eigen::Map<ArrayX<T>> arr(const Tensor& t) {
  return vec<T>(*impl_ptr(t));
}

/// Calls rule.template operator()<T>(begin, count) over blocks of the parameter's elements,
/// with T its element type; each thread updates its own run of blocks. A rule is several Eigen
/// statements (moments, then the parameter); blocks small enough for the L2 cache let the later
/// statements re-read what the earlier ones wrote from cache instead of from memory.
template <typename Rule>
void update_elements(const char* optimizer, const Tensor& p, Rule rule) {
  constexpr std::int64_t kBlock = 4096;
  dispatch_float(p.dtype(), optimizer, [&]<typename T>() {
    parallel_chunks(p.numel(), [&](std::int64_t b, std::int64_t e) {
      for (std::int64_t i = b; i < e; i += kBlock)
        rule.template operator()<T>(i, std::min(kBlock, e - i));
    });
  });
}

/// torch's prologue, written once: a callable giving d = (maximize ? -g : g) + weight_decay p
/// as an Eigen expression, rebuilt where it is used (no temporary array). Options without a
/// maximize member (NAdam in 1.13) never negate.
template <typename T, typename Options, typename G, typename P>
auto gradient_term(const Options& o, const G& g, const P& p) {
  T sign = T(1);
  if constexpr (requires { o.maximize; }) sign = o.maximize ? T(-1) : T(1);
  const T wd = T(o.weight_decay);
  return [sign, wd, g, p] { return sign * g + wd * p; };
}

}  // namespace tapegrad::optim
