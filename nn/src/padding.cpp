// Padding layers: the sizes checked at construction, the input's rank at forward (torch's
// padding layers take an unbatched (C, ...) or a batched (N, C, ...) input), then core's pad.
#include "tapegrad/nn/padding.h"

#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/errors.h"

namespace tapegrad::nn {

PadNd::PadNd(const char* kind, int dims, PadSizes padding, PadMode mode, double value)
    : kind_(kind), dims_(dims), mode_(mode), value_(value) {
  const std::vector<std::int64_t>& p = padding.sizes;
  if (p.size() == 1)
    pads_.assign(static_cast<std::size_t>(2 * dims), p[0]);
  else if (p.size() == static_cast<std::size_t>(2 * dims))
    pads_ = p;
  else
    throw ValueError(msg(kind, ": padding must be one size or ", 2 * dims, " (",
                         dims == 1 ? "left, right" : "left, right, top, bottom", "), got ",
                         p.size()));
  // Negative sizes crop, as torch's constant padding does; the other modes refuse them in pad.
  if (mode != PadMode::Constant)
    for (std::int64_t s : pads_)
      if (s < 0) throw ValueError(msg(kind, ": padding must be >= 0, got ", s));
}

Tensor PadNd::forward(const Tensor& x) {
  // Constant padding takes any input with enough dims; the others, as torch's, an unbatched
  // (C, ...) or batched (N, C, ...) one of exactly dims_ padded dims.
  const std::int64_t lo = mode_ == PadMode::Constant ? dims_ : dims_ + 1, hi = dims_ + 2;
  if (x.dim() < lo || (mode_ != PadMode::Constant && x.dim() > hi))
    throw ShapeError(
        msg(kind_, ": expected ",
            mode_ == PadMode::Constant ? msg(lo, "D or more") : msg(lo, "D or ", hi, "D"),
            " input, got ", shape_str(x.shape())));
  return pad(x, pads_, mode_, value_);
}

std::string PadNd::extra_repr() const {
  std::string r = "(";
  for (std::size_t i = 0; i < pads_.size(); ++i) r += msg(i ? ", " : "", pads_[i]);
  r += ")";
  if (mode_ == PadMode::Constant && value_ != 0) r += msg(", value=", value_);
  return r;
}

}  // namespace tapegrad::nn
