// Pooling layers: what they print (their forwards are core's pooling functions).
#include "tapegrad/nn/pooling.h"

#include "tapegrad/core/detail/msg.h"

namespace tapegrad::nn {

namespace {
std::string pair(Size2 s) { return s.h == s.w ? msg(s.h) : msg("(", s.h, ", ", s.w, ")"); }
}  // namespace

std::string MaxPool2d::extra_repr() const {
  const Size2 stride = o_.stride.h == 0 ? o_.kernel_size : o_.stride;
  return msg("kernel_size=", pair(o_.kernel_size), ", stride=", pair(stride),
             ", padding=", pair(o_.padding), ", dilation=", pair(o_.dilation),
             ", ceil_mode=", o_.ceil_mode ? "true" : "false");
}

std::string AvgPool2d::extra_repr() const {
  const Size2 stride = o_.stride.h == 0 ? o_.kernel_size : o_.stride;
  return msg("kernel_size=", pair(o_.kernel_size), ", stride=", pair(stride),
             ", padding=", pair(o_.padding));
}

std::string AdaptiveAvgPool2d::extra_repr() const { return msg("output_size=", pair(size_)); }
std::string AdaptiveMaxPool2d::extra_repr() const { return msg("output_size=", pair(size_)); }

}  // namespace tapegrad::nn
