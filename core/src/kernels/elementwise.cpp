// Dtype promotion for the binary ops (elementwise.h).
#include "kernels/elementwise.h"

namespace tapegrad {

Promoted promote(const char* op, const Tensor& a, const Tensor& b) {
  const Dtype da = impl_of(a, op).dtype, db = impl_of(b, op).dtype;
  if (da == db) return {a, b};
  auto rank = [](Dtype d) { return d == kInt64 ? 0 : d == kFloat32 ? 1 : 2; };
  const Dtype d = rank(da) > rank(db) ? da : db;
  return {a.to(d), b.to(d)};
}

}  // namespace tapegrad
