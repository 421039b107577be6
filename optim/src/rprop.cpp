// Rprop: PyTorch 1.13's _single_tensor_rprop.
#include "tapegrad/optim/rprop.h"

#include <algorithm>

#include "update.h"

namespace tapegrad::optim {

void Rprop::validate(const RpropOptions& o) {
  require(o.lr >= 0, "Rprop", "lr", o.lr, ">= 0");
  require(o.etas.first > 0 && o.etas.first < 1, "Rprop", "etas.first (eta_minus)", o.etas.first,
          "in (0, 1)");
  require(o.etas.second > 1, "Rprop", "etas.second (eta_plus)", o.etas.second, "> 1");
  require(o.step_sizes.first >= 0, "Rprop", "step_sizes.first (min)", o.step_sizes.first, ">= 0");
  require(o.step_sizes.second >= o.step_sizes.first, "Rprop", "step_sizes.second (max)",
          o.step_sizes.second, ">= step_sizes.first");
}

void Rprop::update(std::size_t group, ParamState& s, const Tensor& p, const Tensor& grad) {
  const RpropOptions& o = options(group);
  const Tensor& prev = buffer(s, 0, p);
  const Tensor& step = buffer(s, 1, p, o.lr);
  update_elements("Rprop", p, [&]<typename T>(std::int64_t b, std::int64_t n) {
    auto P = arr<T>(p).segment(b, n);
    auto G = arr<T>(grad).segment(b, n);
    auto Prev = arr<T>(prev).segment(b, n);
    auto S = arr<T>(step).segment(b, n);
    const T minus = T(o.etas.first), plus = T(o.etas.second);
    for (std::int64_t i = 0; i < n; ++i) {
      const T g = o.maximize ? -G[i] : G[i], agree = g * Prev[i];
      // A NaN leaves NaN in the factor and the sign, as torch's masked assignments do.
      const T factor = agree > 0 ? plus : agree < 0 ? minus : agree == 0 ? T(1) : agree;
      S[i] = std::clamp(S[i] * factor, T(o.step_sizes.first), T(o.step_sizes.second));
      const T d = agree < 0 ? T(0) : g;
      const T sign = d > 0 ? T(1) : d < 0 ? T(-1) : d == 0 ? T(0) : d;
      P[i] -= sign * S[i];
      Prev[i] = d;
    }
  });
}

}  // namespace tapegrad::optim
