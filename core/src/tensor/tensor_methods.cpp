// The method forms of ops (x.sum(), x.relu(), ...): each forwards to the free function in ops.h.
#include "tapegrad/core/ops.h"

namespace tapegrad {

Tensor Tensor::sum() const { return tapegrad::sum(*this); }
Tensor Tensor::sum(std::int64_t d, bool k) const { return tapegrad::sum(*this, d, k); }
Tensor Tensor::mean() const { return tapegrad::mean(*this); }
Tensor Tensor::mean(std::int64_t d, bool k) const { return tapegrad::mean(*this, d, k); }
Tensor Tensor::max() const { return tapegrad::max(*this); }
Tensor Tensor::min() const { return tapegrad::min(*this); }
Tensor Tensor::argmax(std::int64_t d, bool k) const { return tapegrad::argmax(*this, d, k); }
Tensor Tensor::reshape(const Shape& s) const { return tapegrad::reshape(*this, s); }
Tensor Tensor::view(const Shape& s) const { return tapegrad::view(*this, s); }
Tensor Tensor::flatten(std::int64_t a, std::int64_t b) const {
  return tapegrad::flatten(*this, a, b);
}
Tensor Tensor::transpose(std::int64_t a, std::int64_t b) const {
  return tapegrad::transpose(*this, a, b);
}
Tensor Tensor::t() const { return tapegrad::t(*this); }
Tensor Tensor::matmul(const Tensor& o) const { return tapegrad::matmul(*this, o); }
Tensor Tensor::pow(double p) const { return tapegrad::pow(*this, p); }
Tensor Tensor::exp() const { return tapegrad::exp(*this); }
Tensor Tensor::log() const { return tapegrad::log(*this); }
Tensor Tensor::sqrt() const { return tapegrad::sqrt(*this); }
Tensor Tensor::abs() const { return tapegrad::abs(*this); }
Tensor Tensor::sigmoid() const { return tapegrad::sigmoid(*this); }
Tensor Tensor::tanh() const { return tapegrad::tanh(*this); }
Tensor Tensor::relu() const { return tapegrad::relu(*this); }
Tensor Tensor::softmax(std::int64_t d) const { return tapegrad::softmax(*this, d); }
Tensor Tensor::log_softmax(std::int64_t d) const { return tapegrad::log_softmax(*this, d); }
Tensor Tensor::narrow(std::int64_t d, std::int64_t s, std::int64_t n) const {
  return tapegrad::narrow(*this, d, s, n);
}
Tensor Tensor::index_select(std::int64_t d, const Tensor& i) const {
  return tapegrad::index_select(*this, d, i);
}
Tensor Tensor::gather(std::int64_t d, const Tensor& i) const {
  return tapegrad::gather(*this, d, i);
}
Tensor Tensor::unsqueeze(std::int64_t d) const { return tapegrad::unsqueeze(*this, d); }
Tensor Tensor::squeeze() const { return tapegrad::squeeze(*this); }
Tensor Tensor::squeeze(std::int64_t d) const { return tapegrad::squeeze(*this, d); }
Tensor Tensor::permute(const std::vector<std::int64_t>& d) const {
  return tapegrad::permute(*this, d);
}
Tensor Tensor::expand(const Shape& s) const { return tapegrad::expand(*this, s); }
Tensor Tensor::repeat(const std::vector<std::int64_t>& r) const {
  return tapegrad::repeat(*this, r);
}
Tensor Tensor::flip(const std::vector<std::int64_t>& d) const { return tapegrad::flip(*this, d); }
Tensor Tensor::masked_fill(const Tensor& m, double v) const {
  return tapegrad::masked_fill(*this, m, v);
}
Tensor Tensor::square() const { return tapegrad::square(*this); }

}  // namespace tapegrad
