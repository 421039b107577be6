// Broadcast planning (NumPy rules) and add_into, the gradient accumulation built on it.
#include "kernels/broadcast.h"

#include <cassert>
#include <cmath>

namespace tapegrad {

Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b) {
  const std::size_t r = std::max(a.size(), b.size());
  Shape out(r);
  for (std::size_t i = 0; i < r; ++i) {
    // Align from the right: a missing leading dim counts as 1.
    const std::int64_t da = i < r - a.size() ? 1 : a[i - (r - a.size())];
    const std::int64_t db = i < r - b.size() ? 1 : b[i - (r - b.size())];
    if (da != db && da != 1 && db != 1)
      throw ShapeError(msg(op, ": shapes ", shape_str(a), " and ", shape_str(b),
                           " cannot broadcast: dim ", i, " is ", da, " vs ", db));
    out[i] = da == 1 ? db : da;
  }
  return out;
}

namespace {
// Row-major strides of `s` aligned to an output of rank r; 0 where s broadcasts.
std::vector<std::int64_t> aligned_strides(const Shape& s, const Shape& out) {
  const std::size_t r = out.size(), off = r - s.size();
  std::vector<std::int64_t> st(r, 0);
  std::int64_t stride = 1;
  for (std::size_t i = s.size(); i-- > 0;) {
    st[i + off] = (s[i] == 1 && out[i + off] != 1) ? 0 : stride;
    stride *= s[i];
  }
  return st;
}
}  // namespace

BroadcastPlan plan_broadcast(const Shape& out, const Shape& a, const Shape& b) {
  assert(a.size() <= out.size() && b.size() <= out.size());
  BroadcastPlan p;
  if (out.empty()) {
    p.size = {1};
    p.sa = {0};
    p.sb = {0};
    return p;
  }
  const auto sa = aligned_strides(a, out), sb = aligned_strides(b, out);
  // Merge dim i into the run below it when every operand steps through both as one block.
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (out[i] == 1 && out.size() > 1) continue;  // size-1 dims add nothing
    if (!p.size.empty() && p.sa.back() == sa[i] * out[i] && p.sb.back() == sb[i] * out[i]) {
      p.size.back() *= out[i];
      p.sa.back() = sa[i];
      p.sb.back() = sb[i];
    } else {
      p.size.push_back(out[i]);
      p.sa.push_back(sa[i]);
      p.sb.push_back(sb[i]);
    }
  }
  if (p.size.empty()) {  // every dim was 1
    p.size = {1};
    p.sa = {0};
    p.sb = {0};
  }
  return p;
}

void add_into(TensorImpl& dst, const TensorImpl& src) {
  dispatch_float(dst.dtype, "backward", [&]<typename T>() {
    sum_into(dst.data<T>(), dst.shape, src.data<T>(), src.shape);
  });
}

}  // namespace tapegrad
