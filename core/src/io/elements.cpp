#include "io/elements.h"

#include <Eigen/Core>
#include <algorithm>
#include <bit>
#include <climits>
#include <cstring>

#include "tapegrad/core/detail/msg.h"
#include "tensor/tensor_impl.h"

namespace tapegrad::detail {

static_assert(std::endian::native == std::endian::little, "io/ assumes a little-endian host");

namespace {
struct ElemInfo {
  std::size_t size;
  Dtype dtype;
  const char* name;
};
constexpr ElemInfo kInfo[] = {
    {1, kInt64, "bool"},       {1, kInt64, "uint8"},     {1, kInt64, "int8"},
    {2, kInt64, "int16"},      {2, kInt64, "uint16"},    {4, kInt64, "int32"},
    {4, kInt64, "uint32"},     {8, kInt64, "int64"},     {2, kFloat32, "float16"},
    {2, kFloat32, "bfloat16"}, {4, kFloat32, "float32"}, {8, kFloat64, "float64"},
};

template <typename T>
T load(const char* p, bool swap) {
  std::uint8_t b[sizeof(T)];
  std::memcpy(b, p, sizeof(T));
  if (swap)
    for (std::size_t i = 0; i < sizeof(T) / 2; ++i) std::swap(b[i], b[sizeof(T) - 1 - i]);
  T v;
  std::memcpy(&v, b, sizeof(T));
  return v;
}

// One element at p, as the value it loads as.
template <typename Out>
Out convert(Elem e, const char* p, bool swap) {
  switch (e) {
    case Elem::Bool: return static_cast<Out>(*p != 0);
    case Elem::U8: return static_cast<Out>(load<std::uint8_t>(p, false));
    case Elem::I8: return static_cast<Out>(load<std::int8_t>(p, false));
    case Elem::I16: return static_cast<Out>(load<std::int16_t>(p, swap));
    case Elem::U16: return static_cast<Out>(load<std::uint16_t>(p, swap));
    case Elem::I32: return static_cast<Out>(load<std::int32_t>(p, swap));
    case Elem::U32: return static_cast<Out>(load<std::uint32_t>(p, swap));
    case Elem::I64: return static_cast<Out>(load<std::int64_t>(p, swap));
    case Elem::F16:
      return static_cast<Out>(
          static_cast<float>(Eigen::numext::bit_cast<Eigen::half>(load<std::uint16_t>(p, swap))));
    case Elem::BF16:
      return static_cast<Out>(static_cast<float>(
          Eigen::numext::bit_cast<Eigen::bfloat16>(load<std::uint16_t>(p, swap))));
    case Elem::F32: return static_cast<Out>(load<float>(p, swap));
    case Elem::F64: return static_cast<Out>(load<double>(p, swap));
  }
  return Out{};
}

// Visits the flat element positions of layout in row-major order of its index.
template <typename F>
void for_each_position(const Layout& l, std::int64_t numel, F&& f) {
  const std::size_t rank = l.shape.size();
  std::vector<std::int64_t> idx(rank, 0);
  std::int64_t pos = l.offset;
  for (std::int64_t n = 0; n < numel; ++n) {
    f(n, pos);
    for (std::size_t k = rank; k-- > 0;) {  // the odometer: bump the last index, carry left
      if (++idx[k] < l.shape[k]) {
        pos += l.strides[k];
        break;
      }
      pos -= (idx[k] - 1) * l.strides[k];
      idx[k] = 0;
    }
  }
}

}  // namespace

std::size_t elem_size(Elem e) { return kInfo[static_cast<int>(e)].size; }
Dtype elem_dtype(Elem e) { return kInfo[static_cast<int>(e)].dtype; }
const char* elem_name(Elem e) { return kInfo[static_cast<int>(e)].name; }
Elem elem_of(Dtype d) { return d == kFloat32 ? Elem::F32 : d == kFloat64 ? Elem::F64 : Elem::I64; }

// Strides as products of the sizes after (C) or before (Fortran) each dim, sizes of 0 counted as
// 1 (as torch and NumPy do); a product past int64 saturates, which layout_error then refuses.
static std::vector<std::int64_t> strides_of(const Shape& shape, bool fortran) {
  const std::size_t rank = shape.size();
  std::vector<std::int64_t> s(rank);
  std::int64_t step = 1;
  for (std::size_t j = 0; j < rank; ++j) {
    const std::size_t k = fortran ? j : rank - 1 - j;
    s[k] = step;
    if (__builtin_mul_overflow(step, std::max<std::int64_t>(shape[k], 1), &step)) step = INT64_MAX;
  }
  return s;
}

std::vector<std::int64_t> c_strides(const Shape& shape) { return strides_of(shape, false); }
std::vector<std::int64_t> f_strides(const Shape& shape) { return strides_of(shape, true); }

std::string layout_error(const Layout& l, std::int64_t available) {
  if (l.strides.size() != l.shape.size())
    return msg("shape ", shape_str(l.shape), " has ", l.strides.size(), " strides");
  if (l.offset < 0) return msg("negative storage offset ", l.offset);
  bool empty = false;
  std::int64_t nonzero = 1;  // the product of the other sizes must fit even when one is 0
  for (std::size_t k = 0; k < l.shape.size(); ++k) {
    if (l.shape[k] < 0) return msg("shape ", shape_str(l.shape), " has a negative size");
    if (l.strides[k] < 0) return msg("stride ", l.strides[k], " is negative");
    empty = empty || l.shape[k] == 0;
    if (l.shape[k] > 0 && __builtin_mul_overflow(nonzero, l.shape[k], &nonzero))
      return msg("shape ", shape_str(l.shape), ": its sizes' product overflows int64");
  }
  if (empty) {
    if (l.offset > available)
      return msg("storage offset ", l.offset, " is past the storage's ", available, " elements");
    return "";
  }
  std::int64_t numel = 1, last = l.offset;
  for (std::size_t k = 0; k < l.shape.size(); ++k) {
    if (__builtin_mul_overflow(numel, l.shape[k], &numel) || numel > available)
      return msg("shape ", shape_str(l.shape), " needs more elements than the ", available,
                 " its storage holds");
    std::int64_t reach;
    if (__builtin_mul_overflow(l.shape[k] - 1, l.strides[k], &reach) ||
        __builtin_add_overflow(last, reach, &last))
      return msg("strides ", shape_str(Shape(l.strides.begin(), l.strides.end())),
                 " reach past int64's range");
  }
  if (last >= available)
    return msg("shape ", shape_str(l.shape), " with strides ",
               shape_str(Shape(l.strides.begin(), l.strides.end())), " at offset ", l.offset,
               " reads element ", last, " of a storage of ", available);
  return "";
}

Tensor read_elements(Elem e, const Layout& l, const char* base, bool big_endian) {
  ImplPtr t = make_impl(l.shape, elem_dtype(e));
  const std::int64_t numel = t->numel;
  const std::size_t size = elem_size(e);
  const bool swap = big_endian && size > 1;
  // The common case, a contiguous run of the very dtype it loads as, is one copy.
  if (!swap && size == dtype_size(t->dtype) && elem_of(t->dtype) == e &&
      (numel <= 1 || l.strides == c_strides(l.shape))) {
    if (numel > 0)
      std::memcpy(t->storage->data, base + static_cast<std::size_t>(l.offset) * size,
                  static_cast<std::size_t>(numel) * size);
    return Tensor(std::move(t));
  }
  auto fill = [&](auto* out) {
    using Out = std::remove_pointer_t<decltype(out)>;
    for_each_position(l, numel, [&](std::int64_t n, std::int64_t pos) {
      out[n] = convert<Out>(e, base + static_cast<std::size_t>(pos) * size, swap);
    });
  };
  switch (t->dtype) {
    case kFloat32: fill(static_cast<float*>(t->storage->data)); break;
    case kFloat64: fill(static_cast<double*>(t->storage->data)); break;
    default: fill(static_cast<std::int64_t*>(t->storage->data)); break;
  }
  return Tensor(std::move(t));
}

std::span<const char> element_bytes(const Tensor& t) {
  const TensorImpl& impl = *impl_ptr(t);
  return {static_cast<const char*>(impl.storage->data), impl.bytes()};
}

}  // namespace tapegrad::detail
