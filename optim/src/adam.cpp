// Adam and AdamW: PyTorch 1.13's _single_tensor_adam / _single_tensor_adamw.
#include "tapegrad/optim/adam.h"

#include "adam_step.h"
#include "tapegrad/optim/adamw.h"
#include "validate.h"

namespace tapegrad::optim {

namespace {
const std::vector<std::string> kBuffers = {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"};
}  // namespace

Adam::Adam(const std::vector<Tensor>& params, AdamOptions o) : OptimizerWith(kBuffers) {
  add_param_group(params, o);
}
Adam::Adam(const NamedParams& params, AdamOptions o) : OptimizerWith(kBuffers) {
  add_param_group(params, o);
}
void Adam::validate(const AdamOptions& o) const { validate_adam_family("Adam", o); }

void Adam::update(std::size_t group, ParamState& s, const Tensor& p, const Tensor& grad) {
  const AdamOptions& o = options(group);
  const Tensor &m = buffer(s, 0, p), &v = buffer(s, 1, p);
  adam_step("Adam", {o.lr, o.betas.first, o.betas.second, o.eps, o.weight_decay, o.amsgrad, o.maximize},
            s.step, p, grad, m, v, o.amsgrad ? &buffer(s, 2, p) : nullptr);
}

AdamW::AdamW(const std::vector<Tensor>& params, AdamWOptions o) : OptimizerWith(kBuffers) {
  add_param_group(params, o);
}
AdamW::AdamW(const NamedParams& params, AdamWOptions o) : OptimizerWith(kBuffers) {
  add_param_group(params, o);
}
void AdamW::validate(const AdamWOptions& o) const { validate_adam_family("AdamW", o); }

// Decoupled decay: p shrinks by lr * wd before the Adam step sees it; the gradient is untouched.
void AdamW::update(std::size_t group, ParamState& s, const Tensor& p, const Tensor& grad) {
  const AdamWOptions& o = options(group);
  p.mul_(1 - o.lr * o.weight_decay);
  const Tensor &m = buffer(s, 0, p), &v = buffer(s, 1, p);
  adam_step("AdamW", {o.lr, o.betas.first, o.betas.second, o.eps, 0, o.amsgrad, o.maximize}, s.step,
            p, grad, m, v, o.amsgrad ? &buffer(s, 2, p) : nullptr);
}

}  // namespace tapegrad::optim
