// Collectives on tensors across the ranks of the job, for any dtype. They are not recorded on
// the tape (like torch.distributed): values change, gradients do not flow through them. Every
// rank must call them in the same order with tensors of the same shape and dtype.
#pragma once
#include <span>

#include "tapegrad/core/tensor.h"

namespace tapegrad::dist {

/// How a collective combines the ranks' values: their sum, mean, maximum or minimum.
enum class ReduceOp { Sum, Mean, Max, Min };

/// t becomes the elementwise reduction of every rank's t (Mean: the sum / world_size; int64
/// tensors take Sum, Max and Min only).
void all_reduce(const Tensor& t, ReduceOp op = ReduceOp::Sum);
/// The same on plain numbers (metrics: a loss sum and a count, say).
void all_reduce(std::span<double> values, ReduceOp op = ReduceOp::Sum);
/// t becomes root's t on every rank.
void broadcast(const Tensor& t, int root = 0);
/// Every rank's t stacked along a new first dimension: (world_size, ...t's shape).
Tensor all_gather(const Tensor& t);
/// The reduction of every rank's t, split along dim 0 into world_size equal parts: rank r gets
/// part r. t.size(0) must divide by world_size.
Tensor reduce_scatter(const Tensor& t, ReduceOp op = ReduceOp::Sum);

}  // namespace tapegrad::dist
