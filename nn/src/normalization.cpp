// Layer and group normalisation layers: parameters as torch's, forward through core's ops.
#include "tapegrad/nn/normalization.h"

#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/errors.h"
#include "tapegrad/core/ops.h"
#include "tapegrad/core/ops/batch_norm.h"
#include "tapegrad/core/ops/layer_norm.h"

namespace tapegrad::nn {

namespace {
void check_eps(const char* kind, double eps) {
  if (!(eps > 0)) throw ValueError(msg(kind, ": eps must be > 0, got ", eps));
}
}  // namespace

LayerNorm::LayerNorm(Shape normalized_shape, double eps, bool elementwise_affine)
    : shape_(std::move(normalized_shape)), eps_(eps) {
  if (shape_.empty())
    throw ShapeError("LayerNorm: normalized_shape must hold at least one dim: got []");
  for (std::int64_t s : shape_)
    if (s < 1)
      throw ValueError(
          msg("LayerNorm: normalized_shape must be positive: got ", shape_str(shape_)));
  check_eps("LayerNorm", eps);
  if (elementwise_affine) {
    weight_ = register_parameter("weight", ones(shape_));
    bias_ = register_parameter("bias", zeros(shape_));
  }
}

Tensor LayerNorm::forward(const Tensor& x) { return layer_norm(x, shape_, weight_, bias_, eps_); }

std::string LayerNorm::extra_repr() const {
  std::string dims = "(";  // a Python tuple, as torch prints it
  for (std::size_t i = 0; i < shape_.size(); ++i) dims += msg(i ? ", " : "", shape_[i]);
  dims += shape_.size() == 1 ? ",)" : ")";
  return msg(dims, ", eps=", eps_, ", elementwise_affine=", weight_.defined() ? "true" : "false");
}

GroupNorm::GroupNorm(std::int64_t num_groups, std::int64_t num_channels, double eps, bool affine)
    : groups_(num_groups), channels_(num_channels), eps_(eps) {
  if (num_groups < 1 || num_channels < 1 || num_channels % num_groups != 0)
    throw ValueError(msg("GroupNorm: num_groups must divide num_channels: got ", num_groups,
                         " groups of ", num_channels, " channels"));
  check_eps("GroupNorm", eps);
  if (affine) {
    weight_ = register_parameter("weight", ones({num_channels}));
    bias_ = register_parameter("bias", zeros({num_channels}));
  }
}

Tensor GroupNorm::forward(const Tensor& x) {
  if (x.dim() >= 2 && x.size(1) != channels_)
    throw ShapeError(msg("GroupNorm: expected ", channels_, " channels in dim 1, got input ",
                         shape_str(x.shape())));
  return group_norm(x, groups_, weight_, bias_, eps_);
}

std::string GroupNorm::extra_repr() const {
  return msg(groups_, ", ", channels_, ", eps=", eps_,
             ", affine=", weight_.defined() ? "true" : "false");
}

}  // namespace tapegrad::nn
