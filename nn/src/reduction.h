// Shared by the loss files: applies a Reduction to per-element or per-sample losses.
#pragma once
#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/errors.h"
#include "tapegrad/core/ops.h"
#include "tapegrad/nn/functional.h"

namespace tapegrad::nn {

/// Refuses Reduction::BatchMean for every loss but kl_div, naming op.
inline void check_reduction(const char* op, Reduction r, bool batchmean_ok = false) {
  if (r == Reduction::BatchMean && !batchmean_ok)
    throw ValueError(msg(op, ": Reduction::BatchMean is kl_div's only; use Mean, Sum or None"));
}

/// The class count of a classification input (C), (N, C) or (N, C, d1, ...), which must be
/// floating; throws naming op and what the input is.
inline std::int64_t class_count(const char* op, const char* what, const Tensor& x) {
  if (!is_floating(x.dtype()))
    throw ValueError(msg(op, ": needs a floating-point tensor: got ", dtype_name(x.dtype())));
  if (x.dim() < 1)
    throw ShapeError(
        msg(op, ": ", what, " must be (C), (N, C) or (N, C, d1, ...): got ", shape_str(x.shape())));
  return x.dim() == 1 ? x.size(0) : x.size(1);
}

/// Class weights, when given, must be one per class in the input's dtype; throws naming op.
inline void check_class_weight(const char* op, const Tensor& weight, Dtype dtype, std::int64_t C) {
  if (weight.defined() && (weight.shape() != Shape{C} || weight.dtype() != dtype))
    throw ShapeError(msg(op, ": weight must be ", dtype_name(dtype), " (", C,
                         "), one per class: got ", dtype_name(weight.dtype()), " ",
                         shape_str(weight.shape())));
}

/// Checks int64 class-index targets: each in [0, C) or equal to ignore_index; throws naming op
/// and the first that is not. Returns whether any target is ignored.
inline bool check_class_indices(const char* op, const Tensor& target, std::int64_t C,
                                std::int64_t ignore_index) {
  const std::int64_t* p = target.data<std::int64_t>();
  bool ignored = false;
  for (std::int64_t i = 0; i < target.numel(); ++i) {
    if (p[i] == ignore_index) {
      ignored = true;
    } else if (p[i] < 0 || p[i] >= C) {
      throw ValueError(msg(op, ": target ", p[i], " at position ", i, " is out of range for ", C,
                           " classes (and is not ignore_index ", ignore_index, ")"));
    }
  }
  return ignored;
}

/// An input (N, C, d1, ...) as rows of C, (N d1 ..., C): the class dim moved last (a copy).
inline Tensor class_rows(const Tensor& x) {
  std::vector<std::int64_t> order{0};
  for (std::int64_t d = 2; d < x.dim(); ++d) order.push_back(d);
  order.push_back(1);
  return permute(x, order).reshape({-1, x.size(1)});
}

inline Tensor reduce(const Tensor& per_element, Reduction r) {
  switch (r) {
    case Reduction::Mean: return mean(per_element);
    case Reduction::Sum: return sum(per_element);
    default: return per_element;
  }
}

}  // namespace tapegrad::nn
