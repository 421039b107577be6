// RAdam: PyTorch 1.13's _single_tensor_radam.
#include "tapegrad/optim/radam.h"

#include <cmath>

#include "update.h"
#include "validate.h"

namespace tapegrad::optim {

void RAdam::validate(const RAdamOptions& o) { validate_adam_family("RAdam", o); }

void RAdam::update(std::size_t group, ParamState& s, const Tensor& p, const Tensor& grad) {
  const RAdamOptions& o = options(group);
  const Tensor &m = buffer(s, 0, p), &v = buffer(s, 1, p);
  const auto t = static_cast<double>(s.step);
  const double b1 = o.betas.first, b2 = o.betas.second;
  const double bc1 = 1 - std::pow(b1, t), bc2 = 1 - std::pow(b2, t);
  const double rho_inf = 2 / (1 - b2) - 1;
  const double rho_t = rho_inf - 2 * t * std::pow(b2, t) / bc2;
  // The rectified step's scale; 0 while the variance is untrusted (5 is torch's threshold).
  const double rect =
      rho_t > 5
          ? std::sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
          : 0;
  const double step_size = o.lr / bc1;
  update_elements("RAdam", p, [&]<typename T>(std::int64_t b, std::int64_t n) {
    auto P = arr<T>(p).segment(b, n);
    auto M = arr<T>(m).segment(b, n);
    auto V = arr<T>(v).segment(b, n);
    auto d = gradient_term<T>(o, arr<T>(grad).segment(b, n), P);
    M = T(b1) * M + T(1 - b1) * d();
    V = T(b2) * V + T(1 - b2) * d().square();
    if (rect > 0)
      P -= T(step_size * rect * std::sqrt(bc2)) * M / (V.sqrt() + T(o.eps));
    else
      P -= T(step_size) * M;
  });
}

}  // namespace tapegrad::optim
