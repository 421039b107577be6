// Adamax: PyTorch 1.13's _single_tensor_adamax.
#include "tapegrad/optim/adamax.h"

#include <cmath>

#include "update.h"
#include "validate.h"

namespace tapegrad::optim {

void Adamax::validate(const AdamaxOptions& o) { validate_adam_family("Adamax", o); }

void Adamax::update(std::size_t group, ParamState& s, const Tensor& p, const Tensor& grad) {
  const AdamaxOptions& o = options(group);
  const Tensor &m = buffer(s, 0, p), &u = buffer(s, 1, p);
  const double clr = o.lr / (1 - std::pow(o.betas.first, static_cast<double>(s.step)));
  update_elements("Adamax", p, [&]<typename T>(std::int64_t b, std::int64_t n) {
    auto P = arr<T>(p).segment(b, n);
    auto G = arr<T>(grad).segment(b, n);
    auto M = arr<T>(m).segment(b, n);
    auto U = arr<T>(u).segment(b, n);
    const T b1 = T(o.betas.first), b2 = T(o.betas.second);
    auto d = gradient_term<T>(o, G, P);
    M = b1 * M + (T(1) - b1) * d();
    U = (b2 * U).max(d().abs() + T(o.eps));  // eps inside the max, as PyTorch's norm_buf
    P -= T(clr) * M / U;
  });
}

}  // namespace tapegrad::optim
