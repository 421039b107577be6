// Batch normalisation layers: parameters and buffers as torch's, the running-statistics factor
// (momentum, or the cumulative 1 / num_batches_tracked), forward through core's batch_norm.
#include "tapegrad/nn/batchnorm.h"

#include <cmath>

#include "tapegrad/core/autograd.h"
#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/errors.h"
#include "tapegrad/core/ops.h"
#include "tapegrad/core/ops/batch_norm.h"
#include "tapegrad/core/ops/layer_norm.h"

namespace tapegrad::nn {

BatchNorm::BatchNorm(std::int64_t num_features, BatchNormConfig config, const char* kind,
                     int min_rank, int max_rank)
    : features_(num_features),
      config_(config),
      kind_(kind),
      min_rank_(min_rank),
      max_rank_(max_rank) {
  if (num_features < 1)
    throw ValueError(msg(kind, ": num_features must be positive, got ", num_features));
  if (!(config.eps > 0)) throw ValueError(msg(kind, ": eps must be > 0, got ", config.eps));
  if (config.momentum && !(*config.momentum >= 0 && *config.momentum <= 1))
    throw ValueError(msg(kind, ": momentum must be in [0, 1], got ", *config.momentum));
  if (config.affine) {
    weight_ = register_parameter("weight", ones({num_features}));
    bias_ = register_parameter("bias", zeros({num_features}));
  }
  if (config.track_running_stats) {
    running_mean_ = register_buffer("running_mean", zeros({num_features}));
    running_var_ = register_buffer("running_var", ones({num_features}));
    num_batches_tracked_ = register_buffer("num_batches_tracked", zeros({}, {.dtype = kInt64}));
  }
}

Tensor BatchNorm::forward(const Tensor& x) {
  if (x.dim() < min_rank_ || x.dim() > max_rank_)
    throw ShapeError(
        msg(kind_, ": expected ",
            min_rank_ == max_rank_ ? msg(min_rank_, "D") : msg(min_rank_, "D or ", max_rank_, "D"),
            " input, got ", shape_str(x.shape())));
  double factor = config_.momentum.value_or(0.0);
  if (is_training() && config_.track_running_stats) {
    {  // one more batch: a fill, not an add of a fresh 0-d tensor every step
      NoGradGuard no_grad;
      num_batches_tracked_.fill_(num_batches_tracked_.item() + 1);
    }
    if (!config_.momentum)  // cumulative moving average
      factor = 1.0 / static_cast<double>(num_batches_tracked_.item());
  }
  // Batch statistics while training, or always when none are kept (torch's bn_training).
  const bool batch_stats = is_training() || !config_.track_running_stats;
  return batch_norm(x, running_mean_, running_var_, weight_, bias_,
                    {.training = batch_stats, .momentum = factor, .eps = config_.eps});
}

std::string BatchNorm::extra_repr() const {
  std::string r = msg(features_, ", eps=", config_.eps, ", momentum=");
  r += config_.momentum ? msg(*config_.momentum) : std::string("None");
  r += msg(", affine=", config_.affine ? "true" : "false",
           ", track_running_stats=", config_.track_running_stats ? "true" : "false");
  return r;
}

}  // namespace tapegrad::nn
