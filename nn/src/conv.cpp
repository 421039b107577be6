// Convolution layers: parameters initialised as torch's, forward through core's conv ops.
#include "tapegrad/nn/conv.h"

#include <cmath>

#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/errors.h"
#include "tapegrad/core/ops.h"
#include "tapegrad/nn/init.h"

namespace tapegrad::nn {

namespace {
// torch's reset_parameters: kaiming_uniform_(a = sqrt(5)) for the weight, U(+-1/sqrt(fan_in))
// for the bias.
std::pair<Tensor, Tensor> conv_parameters(const char* kind, std::int64_t in, std::int64_t out,
                                          std::int64_t groups, const Shape& kernel, bool bias,
                                          Generator* gen) {
  if (in < 1 || out < 1)
    throw ValueError(msg(kind, ": channels must be positive: got in ", in, ", out ", out));
  if (groups < 1 || in % groups != 0 || out % groups != 0)
    throw ValueError(msg(kind, ": ", in, " input and ", out,
                         " output channels must both divide into groups=", groups));
  Shape ws{out, in / groups};
  for (std::int64_t k : kernel) {
    if (k < 1) throw ValueError(msg(kind, ": kernel_size must be >= 1, got ", shape_str(kernel)));
    ws.push_back(k);
  }
  Tensor w = empty(ws);
  init::kaiming_uniform_(w, std::sqrt(5.0), init::FanMode::FanIn, "leaky_relu", gen);
  Tensor b;
  if (bias) {
    b = empty({out});
    const double bound =
        1 / std::sqrt(static_cast<double>(init::calculate_fan_in_and_fan_out(w).first));
    init::uniform_(b, -bound, bound, gen);
  }
  return {w, b};
}

std::string padding_repr(const Padding2& p) {
  return p.same ? "\"same\"" : msg("(", p.h, ", ", p.w, ")");
}
}  // namespace

Conv2d::Conv2d(std::int64_t in_channels, std::int64_t out_channels, Size2 kernel_size,
               Conv2dOptions options, bool bias, Generator* gen)
    : in_(in_channels), out_(out_channels), kernel_(kernel_size), options_(options) {
  auto [w, b] = conv_parameters("Conv2d", in_, out_, options.groups, {kernel_size.h, kernel_size.w},
                                bias, gen);
  weight_ = register_parameter("weight", w);
  if (b.defined()) bias_ = register_parameter("bias", b);
}

Tensor Conv2d::forward(const Tensor& x) { return conv2d(x, weight_, bias_, options_); }

std::string Conv2d::extra_repr() const {
  std::string r = msg(in_, ", ", out_, ", kernel_size=(", kernel_.h, ", ", kernel_.w, "), stride=(",
                      options_.stride.h, ", ", options_.stride.w, ")");
  if (options_.padding.same || options_.padding.h || options_.padding.w)
    r += msg(", padding=", padding_repr(options_.padding));
  if (options_.dilation.h != 1 || options_.dilation.w != 1)
    r += msg(", dilation=(", options_.dilation.h, ", ", options_.dilation.w, ")");
  if (options_.groups != 1) r += msg(", groups=", options_.groups);
  if (!bias_.defined()) r += ", bias=false";
  return r;
}

Conv1d::Conv1d(std::int64_t in_channels, std::int64_t out_channels, std::int64_t kernel_size,
               Conv1dOptions options, bool bias, Generator* gen)
    : in_(in_channels), out_(out_channels), kernel_(kernel_size), options_(options) {
  auto [w, b] = conv_parameters("Conv1d", in_, out_, options.groups, {kernel_size}, bias, gen);
  weight_ = register_parameter("weight", w);
  if (b.defined()) bias_ = register_parameter("bias", b);
}

Tensor Conv1d::forward(const Tensor& x) { return conv1d(x, weight_, bias_, options_); }

std::string Conv1d::extra_repr() const {
  std::string r =
      msg(in_, ", ", out_, ", kernel_size=(", kernel_, ",), stride=(", options_.stride, ",)");
  if (options_.padding.same || options_.padding.w)
    r += msg(", padding=", options_.padding.same ? "\"same\"" : msg("(", options_.padding.w, ",)"));
  if (options_.dilation != 1) r += msg(", dilation=(", options_.dilation, ",)");
  if (options_.groups != 1) r += msg(", groups=", options_.groups);
  if (!bias_.defined()) r += ", bias=false";
  return r;
}

}  // namespace tapegrad::nn
