// The element types other tools' files hold (torch, safetensors, NumPy), how each loads into
// one of tapegrad's dtypes, and the checked strided read that every foreign reader shares.
// Integers of every width load as Int64 and bool as Int64 0/1 (tapegrad's nearest dtype: its
// only integer type); float16 and bfloat16 widen exactly to Float32.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "tapegrad/core/tensor.h"

namespace tapegrad::detail {

enum class Elem : std::uint8_t { Bool, U8, I8, I16, U16, I32, U32, I64, F16, BF16, F32, F64 };

/// Bytes per element in the file.
std::size_t elem_size(Elem e);
/// The dtype it loads as: Int64 for bool and integers, Float32 for 16- and 32-bit floats.
Dtype elem_dtype(Elem e);
/// torch's name for it: "float16", "uint8", "bool".
const char* elem_name(Elem e);
/// The element type a tapegrad tensor is written as.
Elem elem_of(Dtype d);

/// Where a tensor's elements lie among a buffer's elements: index (i_0, ..., i_k) is element
/// offset + sum_j i_j * strides[j] (torch's storage offset and strides, in elements).
struct Layout {
  Shape shape;
  std::vector<std::int64_t> strides;
  std::int64_t offset = 0;
};

/// Row-major (C order) and column-major (Fortran order) strides of a shape.
std::vector<std::int64_t> c_strides(const Shape& shape);
std::vector<std::int64_t> f_strides(const Shape& shape);

/// "" when layout reads only elements [0, available) and at most `available` of them (so no
/// tensor is larger than the bytes behind it, whatever its strides); otherwise what is wrong
/// ("shape [3, -1] has a negative size", "reads element 12 of a storage of 10"), computed
/// without overflow.
std::string layout_error(const Layout& layout, std::int64_t available);

/// A new tensor from the elements of `base` at `layout` (checked by layout_error first),
/// converted to elem_dtype(e); big_endian swaps each element's bytes.
Tensor read_elements(Elem e, const Layout& layout, const char* base, bool big_endian);

/// The bytes of t's elements, in C order and native (little-endian) byte order.
std::span<const char> element_bytes(const Tensor& t);

}  // namespace tapegrad::detail
