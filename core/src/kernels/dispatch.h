// Eigen maps over tensor storage and dtype dispatch: the only place that turns a runtime Dtype
// into a C++ type, so ops are written once as templated lambdas.
#pragma once
#include <Eigen/Core>
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "tapegrad/core/checked.h"
#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/errors.h"
#include "tensor/tensor_impl.h"

namespace tapegrad {

template <typename T>
using ArrayX = Eigen::Array<T, Eigen::Dynamic, 1>;
template <typename T>
using MatrixRM = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// The whole tensor as a flat Eigen array.
template <typename T>
Eigen::Map<ArrayX<T>> vec(TensorImpl& t) {
  return {t.data<T>(), t.numel};
}
template <typename T>
Eigen::Map<const ArrayX<T>> cvec(const TensorImpl& t) {
  return {t.data<T>(), t.numel};
}
/// The tensor viewed as a row-major (rows x cols) matrix: one sample per row, no copy.
template <typename T>
Eigen::Map<MatrixRM<T>> mat(TensorImpl& t, std::int64_t rows, std::int64_t cols) {
  return {t.data<T>(), rows, cols};
}
template <typename T>
Eigen::Map<const MatrixRM<T>> cmat(const TensorImpl& t, std::int64_t rows, std::int64_t cols) {
  return {t.data<T>(), rows, cols};
}

/// Calls f.template operator()<T>() with T = float or double; throws for int64.
template <typename F>
decltype(auto) dispatch_float(Dtype d, const char* op, F&& f) {
  switch (d) {
    case Dtype::Float32: return f.template operator()<float>();
    case Dtype::Float64: return f.template operator()<double>();
    default:
      throw ValueError(msg(op, ": needs a floating-point tensor: got ", dtype_name(d),
                           "; convert with .to(kFloat32)"));
  }
}
/// Same, with std::int64_t too.
template <typename F>
decltype(auto) dispatch_all(Dtype d, F&& f) {
  switch (d) {
    case Dtype::Float32: return f.template operator()<float>();
    case Dtype::Float64: return f.template operator()<double>();
    default: return f.template operator()<std::int64_t>();
  }
}

/// A double argument as element type T. int64 truncates toward zero as PyTorch does, after a
/// check that the value is finite and in range (throws naming op); float types round.
template <typename T>
T element_from_double(double v, const char* op) {
  if constexpr (std::is_same_v<T, std::int64_t>)
    return checked_int64(std::trunc(v), op);
  else
    return static_cast<T>(v);
}

}  // namespace tapegrad
