// Adagrad: PyTorch 1.13's _single_tensor_adagrad.
#include "tapegrad/optim/adagrad.h"

#include "update.h"

namespace tapegrad::optim {

void Adagrad::validate(const AdagradOptions& o) {
  require(o.lr >= 0, "Adagrad", "lr", o.lr, ">= 0");
  require(o.lr_decay >= 0, "Adagrad", "lr_decay", o.lr_decay, ">= 0");
  require(o.weight_decay >= 0, "Adagrad", "weight_decay", o.weight_decay, ">= 0");
  require(o.initial_accumulator_value >= 0, "Adagrad", "initial_accumulator_value",
          o.initial_accumulator_value, ">= 0");
  require(o.eps >= 0, "Adagrad", "eps", o.eps, ">= 0");
}

void Adagrad::update(std::size_t group, ParamState& s, const Tensor& p, const Tensor& grad) {
  const AdagradOptions& o = options(group);
  const Tensor& sum = buffer(s, 0, p, o.initial_accumulator_value);
  // The decay counts steps already taken: the first step uses the full lr.
  const double clr = o.lr / (1 + static_cast<double>(s.step - 1) * o.lr_decay);
  update_elements("Adagrad", p, [&]<typename T>(std::int64_t b, std::int64_t n) {
    auto P = arr<T>(p).segment(b, n);
    auto G = arr<T>(grad).segment(b, n);
    auto S = arr<T>(sum).segment(b, n);
    auto d = gradient_term<T>(o, G, P);
    S += d().square();
    P -= T(clr) * d() / (S.sqrt() + T(o.eps));
  });
}

}  // namespace tapegrad::optim
