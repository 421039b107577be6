// operator<< for tensors, in PyTorch's layout: nested brackets, aligned columns, and long
// dimensions summarised as "first three, ..., last three".
#include <cmath>
#include <cstdio>
#include <ostream>

#include "autograd/node.h"
#include "kernels/dispatch.h"

namespace tapegrad {

namespace {
constexpr std::int64_t kSummariseAbove = 1000;  // elements; PyTorch's threshold
constexpr std::int64_t kEdge = 3;               // items kept at each end when summarising

struct Printer {
  const TensorImpl& t;
  std::vector<double> v;
  bool summarise, integral, scientific;
  int width = 1;

  std::string fmt(double x) const {
    char buf[64];
    if (t.dtype == kInt64)
      std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(x));
    else if (!std::isfinite(x))
      std::snprintf(buf, sizeof buf, "%s", std::isnan(x) ? "nan" : (x > 0 ? "inf" : "-inf"));
    else if (scientific)
      std::snprintf(buf, sizeof buf, "%.4e", x);
    else if (integral)
      std::snprintf(buf, sizeof buf, "%.0f.", x);
    else
      std::snprintf(buf, sizeof buf, "%.4f", x);
    return buf;
  }

  // Indices of dim d that are printed (-1 marks the "..." gap).
  std::vector<std::int64_t> shown(std::int64_t n) const {
    std::vector<std::int64_t> r;
    if (summarise && n > 2 * kEdge) {
      for (std::int64_t i = 0; i < kEdge; ++i) r.push_back(i);
      r.push_back(-1);
      for (std::int64_t i = n - kEdge; i < n; ++i) r.push_back(i);
    } else {
      for (std::int64_t i = 0; i < n; ++i) r.push_back(i);
    }
    return r;
  }

  void print(std::ostream& os, std::size_t d, std::int64_t offset, int indent) const {
    const std::int64_t n = t.shape[d];
    const std::int64_t stride = shape_numel(Shape(t.shape.begin() + d + 1, t.shape.end()));
    os << '[';
    bool first = true;
    for (std::int64_t i : shown(n)) {
      if (!first) {
        os << ',';
        if (d + 1 == t.shape.size())
          os << ' ';
        else
          os << std::string(t.shape.size() - d - 1, '\n') << std::string(indent + 1, ' ');
      }
      first = false;
      if (i < 0) {
        os << "...";
        continue;
      }
      if (d + 1 == t.shape.size()) {
        std::string s = fmt(v[offset + i]);
        os << std::string(width - static_cast<int>(s.size()), ' ') << s;
      } else {
        print(os, d + 1, offset + i * stride, indent + 1);
      }
    }
    os << ']';
  }
};
}  // namespace

std::ostream& operator<<(std::ostream& os, const Tensor& x) {
  if (!x.defined()) return os << "tensor(undefined)";
  const TensorImpl& t = *impl_ptr(x);
  Printer p{t, x.to_vector<double>(), t.numel > kSummariseAbove, true, false};
  double max_abs = 0, min_abs = INFINITY;
  for (double e : p.v)
    if (std::isfinite(e)) {
      p.integral = p.integral && e == std::round(e);
      max_abs = std::max(max_abs, std::abs(e));
      if (e != 0) min_abs = std::min(min_abs, std::abs(e));
    }
  p.scientific = is_floating(t.dtype) && !p.integral && (max_abs >= 1e8 || min_abs < 1e-4);
  for (double e : p.v) p.width = std::max(p.width, static_cast<int>(p.fmt(e).size()));
  os << "tensor(";
  if (t.shape.empty())
    os << p.fmt(p.v[0]);
  else
    p.print(os, 0, 0, 7);
  if (t.dtype != kFloat32) os << ", dtype=" << dtype_name(t.dtype);
  if (t.node)
    os << ", grad_fn=" << t.node->op;
  else if (t.requires_grad)
    os << ", requires_grad=true";
  return os << ')';
}

}  // namespace tapegrad
