// Dtype promotion for the binary ops (elementwise.h).
#include "kernels/elementwise.h"

namespace tapegrad {

namespace {
Dtype common_dtype(const char* op, const Tensor& a, const Tensor& b) {
  const Dtype da = impl_of(a, op).dtype, db = impl_of(b, op).dtype;
  auto rank = [](Dtype d) { return d == kInt64 ? 0 : d == kFloat32 ? 1 : 2; };
  return rank(da) >= rank(db) ? da : db;
}
}  // namespace

Promoted::Promoted(const char* op, const Tensor& a0, const Tensor& b0)
    : Promoted(a0, b0, common_dtype(op, a0, b0)) {}

Promoted::Promoted(const Tensor& a0, const Tensor& b0, Dtype common)
    : converted_a_(a0.dtype() == common ? Tensor() : a0.to(common)),
      converted_b_(b0.dtype() == common ? Tensor() : b0.to(common)),
      a(converted_a_.defined() ? converted_a_ : a0),
      b(converted_b_.defined() ? converted_b_ : b0) {}

}  // namespace tapegrad
