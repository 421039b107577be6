// Instance normalisation layers: group_norm with a group per channel is exactly an instance's
// normalisation; evaluation with running statistics is batch_norm's evaluation. The running
// statistics follow torch's instance_norm: each instance's mean and unbiased variance, averaged
// over the batch, blended in by momentum.
#include "tapegrad/nn/instancenorm.h"

#include "tapegrad/core/autograd/tape.h"
#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/errors.h"
#include "tapegrad/core/ops.h"

namespace tapegrad::nn {

InstanceNorm::InstanceNorm(std::int64_t num_features, InstanceNormConfig config, const char* kind,
                           int spatial_dims)
    : features_(num_features), config_(config), kind_(kind), spatial_(spatial_dims) {
  if (num_features < 1)
    throw ValueError(msg(kind, ": num_features must be positive, got ", num_features));
  if (!(config.eps > 0)) throw ValueError(msg(kind, ": eps must be > 0, got ", config.eps));
  if (!(config.momentum >= 0 && config.momentum <= 1))
    throw ValueError(msg(kind, ": momentum must be in [0, 1], got ", config.momentum));
  if (config.affine) {
    weight_ = register_parameter("weight", ones({num_features}));
    bias_ = register_parameter("bias", zeros({num_features}));
  }
  if (config.track_running_stats) {
    running_mean_ = register_buffer("running_mean", zeros({num_features}));
    running_var_ = register_buffer("running_var", ones({num_features}));
    // Registered as torch registers it (state dicts match); instance norm never counts it up.
    num_batches_tracked_ = register_buffer("num_batches_tracked", zeros({}, {.dtype = kInt64}));
  }
}

Tensor InstanceNorm::forward(const Tensor& x0) {
  const std::int64_t rank = x0.dim();
  if (rank != spatial_ + 1 && rank != spatial_ + 2)
    throw ShapeError(msg(kind_, ": expected ", spatial_ + 1, "D (unbatched) or ", spatial_ + 2,
                         "D input, got ", shape_str(x0.shape())));
  const Tensor x = rank == spatial_ + 1 ? x0.unsqueeze(0) : x0;  // (N, C, spatial...)
  // Without per-channel parameters or statistics any channel count normalises (torch only
  // warns then); with them it must be num_features.
  if (x.size(1) != features_ && (config_.affine || config_.track_running_stats))
    throw ShapeError(
        msg(kind_, ": expected ", features_, " channels, got input ", shape_str(x0.shape())));
  const bool input_stats = is_training() || !config_.track_running_stats;
  Tensor y;
  if (input_stats) {
    std::int64_t spatial = 1;
    for (std::int64_t d = 2; d < x.dim(); ++d) spatial *= x.size(d);
    if (spatial <= 1)  // torch's message: one value has no variance to normalise by
      throw ValueError(msg(kind_,
                           ": expected more than 1 spatial element when training, got "
                           "input ",
                           shape_str(x0.shape())));
    y = group_norm(x, x.size(1), weight_, bias_, config_.eps);
    if (config_.track_running_stats) {
      NoGradGuard no_grad;
      const Tensor xs = x.detach().flatten(2);  // (N, C, S)
      const double m = config_.momentum;
      running_mean_.copy_(running_mean_ * (1 - m) + xs.mean(2).mean(0) * m);
      running_var_.copy_(running_var_ * (1 - m) + var(xs, 2, 1).mean(0) * m);
    }
  } else {
    y = batch_norm(x, running_mean_, running_var_, weight_, bias_,
                   {.training = false, .eps = config_.eps});
  }
  return rank == spatial_ + 1 ? y.squeeze(0) : y;
}

std::string InstanceNorm::extra_repr() const {
  return msg(features_, ", eps=", config_.eps, ", momentum=", config_.momentum,
             ", affine=", config_.affine ? "true" : "false",
             ", track_running_stats=", config_.track_running_stats ? "true" : "false");
}

}  // namespace tapegrad::nn
