// Broadcasting arithmetic (+ - * /) and its tensor-scalar forms. Binary ops broadcast as NumPy
// does; each gradient is summed back to its input's shape.
#pragma once
#include <cstdint>

#include "tapegrad/core/tensor.h"

namespace tapegrad {

/// a + b elementwise, broadcasting.
Tensor add(const Tensor& a, const Tensor& b);
/// a - b elementwise, broadcasting.
Tensor sub(const Tensor& a, const Tensor& b);
/// a * b elementwise, broadcasting.
Tensor mul(const Tensor& a, const Tensor& b);
/// a / b elementwise, broadcasting; a must be floating (ValueError for int64).
Tensor div(const Tensor& a, const Tensor& b);

/// y = a x + b, elementwise with scalars: the tensor-scalar forms of + - * and neg.
Tensor affine(const Tensor& x, double a, double b);
/// -x.
Tensor neg(const Tensor& x);
/// add(a, b).
Tensor operator+(const Tensor& a, const Tensor& b);
/// sub(a, b).
Tensor operator-(const Tensor& a, const Tensor& b);
/// mul(a, b).
Tensor operator*(const Tensor& a, const Tensor& b);
/// div(a, b).
Tensor operator/(const Tensor& a, const Tensor& b);
/// neg(x).
Tensor operator-(const Tensor& x);
/// x + s elementwise.
Tensor operator+(const Tensor& x, double s);
/// s + x elementwise.
Tensor operator+(double s, const Tensor& x);
/// x - s elementwise.
Tensor operator-(const Tensor& x, double s);
/// s - x elementwise.
Tensor operator-(double s, const Tensor& x);
/// x * s elementwise.
Tensor operator*(const Tensor& x, double s);
/// s * x elementwise.
Tensor operator*(double s, const Tensor& x);
/// x / s elementwise (int64 x gives float32, as true division).
Tensor operator/(const Tensor& x, double s);
/// s / x elementwise: s times pow(x, -1).
Tensor operator/(double s, const Tensor& x);

}  // namespace tapegrad
