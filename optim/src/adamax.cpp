// Adamax: PyTorch 1.13's _single_tensor_adamax.
#include "tapegrad/optim/adamax.h"

#include <cmath>

#include "update.h"
#include "validate.h"

namespace tapegrad::optim {

Adamax::Adamax(const std::vector<Tensor>& params, AdamaxOptions o)
    : OptimizerWith({"exp_avg", "exp_inf"}) {
  add_param_group(params, o);
}
Adamax::Adamax(const NamedParams& params, AdamaxOptions o) : OptimizerWith({"exp_avg", "exp_inf"}) {
  add_param_group(params, o);
}

void Adamax::validate(const AdamaxOptions& o) const {
  validate_adam_family("Adamax", o);
}

void Adamax::update(std::size_t group, ParamState& s, const Tensor& p, const Tensor& grad) {
  const AdamaxOptions& o = options(group);
  const Tensor &m = buffer(s, 0, p), &u = buffer(s, 1, p);
  const double clr = o.lr / (1 - std::pow(o.betas.first, static_cast<double>(s.step)));
  update_elements("Adamax", p, [&]<typename T>(std::int64_t b, std::int64_t n) {
    auto P = arr<T>(p).segment(b, n);
    auto G = arr<T>(grad).segment(b, n);
    auto M = arr<T>(m).segment(b, n);
    auto U = arr<T>(u).segment(b, n);
    const T sign = o.maximize ? T(-1) : T(1), wd = T(o.weight_decay);
    const T b1 = T(o.betas.first), b2 = T(o.betas.second);
    auto d = [&] { return sign * G + wd * P; };
    M = b1 * M + (T(1) - b1) * d();
    U = (b2 * U).max(d().abs() + T(o.eps));  // eps inside the max, as PyTorch's norm_buf
    P -= T(clr) * M / U;
  });
}

}  // namespace tapegrad::optim
