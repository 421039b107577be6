// Padding layers (PyTorch's nn.ZeroPad2d, ConstantPad1d/2d, ReflectionPad1d/2d,
// ReplicationPad1d/2d): no parameters, forward through core's pad with torch's padding order.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <vector>

#include "tapegrad/core/ops/pad.h"
#include "tapegrad/nn/module.h"

namespace tapegrad::nn {

/// A padding layer's sizes, as torch's padding argument: one number for every side, or one per
/// side, (left, right) for the 1d layers and (left, right, top, bottom) for the 2d ones.
struct PadSizes {
  /// The same size on every side.
  PadSizes(std::int64_t all) : sizes{all} {}  // NOLINT: implicit, as torch's int-or-tuple
  /// One size per side, in torch's order.
  PadSizes(std::initializer_list<std::int64_t> each) : sizes(each) {}
  std::vector<std::int64_t> sizes;  ///< one size, or one per side: (left, right[, top, bottom])
};

/// The base of the padding layers: pads the last `dims` dims of a (C, ...) or (N, C, ...) input.
class PadNd : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  std::string name() const override { return kind_; }
  std::string extra_repr() const override;
  /// The sizes, (left, right[, top, bottom]).
  const std::vector<std::int64_t>& padding() const { return pads_; }

 protected:
  /// Checks the sizes: one, or two per padded dim.
  PadNd(const char* kind, int dims, PadSizes padding, PadMode mode, double value = 0);

 private:
  const char* kind_;
  int dims_;
  std::vector<std::int64_t> pads_;
  PadMode mode_;
  double value_;
};

/// Pads with zeros: (left, right, top, bottom).
class ZeroPad2d : public PadNd {
 public:
  /// padding: one size, or four (left, right, top, bottom); all >= 0, else ValueError.
  explicit ZeroPad2d(PadSizes padding) : PadNd("ZeroPad2d", 2, padding, PadMode::Constant) {}
};

/// Pads the last dim with value: (left, right).
class ConstantPad1d : public PadNd {
 public:
  /// padding: one size, or two (left, right); all >= 0, else ValueError.
  ConstantPad1d(PadSizes padding, double value)
      : PadNd("ConstantPad1d", 1, padding, PadMode::Constant, value) {}
};

/// Pads the last two dims with value: (left, right, top, bottom).
class ConstantPad2d : public PadNd {
 public:
  /// padding: one size, or four (left, right, top, bottom); all >= 0, else ValueError.
  ConstantPad2d(PadSizes padding, double value)
      : PadNd("ConstantPad2d", 2, padding, PadMode::Constant, value) {}
};

/// Mirrors the last dim without repeating the edge (each size below the dim's).
class ReflectionPad1d : public PadNd {
 public:
  /// padding: one size, or two (left, right); all >= 0, else ValueError.
  explicit ReflectionPad1d(PadSizes padding)
      : PadNd("ReflectionPad1d", 1, padding, PadMode::Reflect) {}
};

/// Mirrors the last two dims without repeating the edges.
class ReflectionPad2d : public PadNd {
 public:
  /// padding: one size, or four (left, right, top, bottom); all >= 0, else ValueError.
  explicit ReflectionPad2d(PadSizes padding)
      : PadNd("ReflectionPad2d", 2, padding, PadMode::Reflect) {}
};

/// Repeats the last dim's edge values.
class ReplicationPad1d : public PadNd {
 public:
  /// padding: one size, or two (left, right); all >= 0, else ValueError.
  explicit ReplicationPad1d(PadSizes padding)
      : PadNd("ReplicationPad1d", 1, padding, PadMode::Replicate) {}
};

/// Repeats the last two dims' edge values.
class ReplicationPad2d : public PadNd {
 public:
  /// padding: one size, or four (left, right, top, bottom); all >= 0, else ValueError.
  explicit ReplicationPad2d(PadSizes padding)
      : PadNd("ReplicationPad2d", 2, padding, PadMode::Replicate) {}
};

}  // namespace tapegrad::nn
