// Element types, and the helpers on tensor shapes: the vocabulary shared by every module.
#pragma once
#include <cstdint>
#include <string>

#include "tapegrad/core/shape.h"

namespace tapegrad {

/// Element type of a tensor. Float32 trains; Float64 makes gradient checks exact; Int64 holds
/// class labels and indices (never differentiable).
enum class Dtype : std::uint8_t { Float32, Float64, Int64 };

/// Dtype::Float32, as torch's kFloat32.
inline constexpr Dtype kFloat32 = Dtype::Float32;
/// Dtype::Float64, as torch's kFloat64.
inline constexpr Dtype kFloat64 = Dtype::Float64;
/// Dtype::Int64, as torch's kInt64.
inline constexpr Dtype kInt64 = Dtype::Int64;

/// "float32", "float64" or "int64".
const char* dtype_name(Dtype d);
/// Bytes per element.
std::size_t dtype_size(Dtype d);
/// True for Float32 and Float64.
inline bool is_floating(Dtype d) { return d != Dtype::Int64; }

/// "[64, 784]".
std::string shape_str(const Shape& s);
/// Product of the sizes (1 for a 0-d tensor); throws ShapeError if it overflows int64.
std::int64_t shape_numel(const Shape& s);

}  // namespace tapegrad
