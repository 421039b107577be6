// Tensor: a cheap, shared handle to an n-dimensional, contiguous, row-major array that can take
// part in reverse-mode automatic differentiation. Copying a Tensor shares storage; clone() copies.
#pragma once
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "tapegrad/core/dtype.h"

namespace tapegrad {

struct TensorImpl;  // defined in core/src/tensor/tensor_impl.h; users never need it
namespace detail {
struct TensorAccess;  // how tapegrad's own libraries reach a handle's TensorImpl
}

/// How a new tensor is made: element type and whether gradients flow into it.
struct TensorOptions {
  Dtype dtype = kFloat32;
  bool requires_grad = false;
};

class Tensor {
 public:
  /// An undefined tensor (like a default torch::Tensor); most calls on it throw StateError.
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl);

  // ---- shape and type ----
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const;
  /// Size of dimension d; negative d counts from the end.
  std::int64_t size(std::int64_t d) const;
  std::int64_t dim() const;
  std::int64_t numel() const;
  Dtype dtype() const;

  // ---- values ----
  /// The single value of a one-element tensor, as double.
  double item() const;
  /// The element at a full index, as double.
  double at(std::initializer_list<std::int64_t> index) const;
  /// Writes one element in place (not recorded; refuses tensors that require grad in grad mode).
  /// In-place updates are const, as in libtorch: they change the data, not the handle.
  void set(std::initializer_list<std::int64_t> index, double value) const;
  /// All elements in row-major order; T must be float, double or std::int64_t.
  template <typename T>
  std::vector<T> to_vector() const;
  /// Raw row-major storage; T must match dtype() exactly.
  template <typename T>
  T* data() const;

  /// True when both handles refer to the same tensor, not merely to equal values (libtorch's
  /// is_same).
  bool is_same(const Tensor& other) const { return impl_ == other.impl_; }
  /// Makes this leaf hold data's values, shape and dtype (sharing data's storage), keeping its
  /// identity, so every handle to it sees the change, and its requires_grad; a gradient that no
  /// longer fits is dropped. Not recorded (libtorch's set_data; Module::to is built on it).
  void set_data(const Tensor& data) const;
  /// A copy with its own storage, on the tape when *this requires grad (like torch.clone).
  Tensor clone() const;
  /// Same storage, cut from the tape: no gradient flows through the result.
  Tensor detach() const;
  /// Conversion to another dtype (differentiable between floating types).
  Tensor to(Dtype d) const;

  // ---- autograd ----
  /// True for leaves marked requires_grad and for every result of an op recorded on the tape.
  bool requires_grad() const;
  /// Marks a leaf as needing a gradient; throws on a non-leaf.
  const Tensor& requires_grad_(bool on = true) const;
  /// True when no recorded op produced this tensor.
  bool is_leaf() const;
  /// Name of the op that produced this tensor ("" for a leaf).
  std::string grad_fn() const;
  /// Accumulated gradient of a leaf (undefined before the first backward).
  Tensor grad() const;
  /// Replaces the accumulated gradient, as torch's `x.grad = g`: g must have this tensor's shape
  /// and floating dtype, and is shared, not copied (later backward passes add into it, in place);
  /// an undefined g clears the gradient (`x.grad = None`).
  void set_grad(const Tensor& g) const;
  /// Zeroes the accumulated gradient in place, keeping its buffer.
  void zero_grad() const;
  /// Asks backward() to keep this non-leaf's gradient in grad() too.
  const Tensor& retain_grad() const;
  /// Runs fn(*this) during every backward() that reaches this leaf, as soon as its gradient
  /// for that pass is complete (every recorded use of it has been differentiated), while the
  /// rest of backward() still runs: torch's register_post_accumulate_grad_hook, on which
  /// data-parallel training starts reducing gradients early. Runs on the thread of backward();
  /// a hook that throws makes backward() throw. Returns a handle for
  /// remove_post_accumulate_grad_hook. Leaves that require grad only.
  int register_post_accumulate_grad_hook(std::function<void(const Tensor&)> fn) const;
  void remove_post_accumulate_grad_hook(int handle) const;
  /// Reverse-mode differentiation from here; grad defaults to 1 for a one-element tensor.
  void backward(const Tensor& grad = Tensor(), bool retain_graph = false) const;

  // ---- in-place updates (never recorded: for optimizers and initialisers) ----
  const Tensor& fill_(double value) const;
  const Tensor& copy_(const Tensor& src) const;
  const Tensor& add_(const Tensor& other, double alpha = 1) const;
  const Tensor& mul_(double factor) const;

  // ---- method forms of the ops in ops.h ----
  Tensor sum() const;
  Tensor sum(std::int64_t dim, bool keepdim = false) const;
  Tensor mean() const;
  Tensor mean(std::int64_t dim, bool keepdim = false) const;
  Tensor max() const;
  Tensor min() const;
  Tensor argmax(std::int64_t dim, bool keepdim = false) const;
  Tensor reshape(const Shape& shape) const;
  Tensor view(const Shape& shape) const;
  Tensor flatten(std::int64_t start_dim = 0, std::int64_t end_dim = -1) const;
  Tensor transpose(std::int64_t d0, std::int64_t d1) const;
  Tensor t() const;
  Tensor matmul(const Tensor& other) const;
  Tensor pow(double exponent) const;
  Tensor exp() const;
  Tensor log() const;
  Tensor sqrt() const;
  Tensor abs() const;
  Tensor sigmoid() const;
  Tensor tanh() const;
  Tensor relu() const;
  Tensor softmax(std::int64_t dim) const;
  Tensor log_softmax(std::int64_t dim) const;
  Tensor narrow(std::int64_t dim, std::int64_t start, std::int64_t length) const;
  Tensor index_select(std::int64_t dim, const Tensor& index) const;
  Tensor gather(std::int64_t dim, const Tensor& index) const;
  Tensor unsqueeze(std::int64_t dim) const;
  Tensor squeeze() const;
  Tensor squeeze(std::int64_t dim) const;
  Tensor permute(const std::vector<std::int64_t>& dims) const;
  Tensor expand(const Shape& shape) const;
  Tensor repeat(const std::vector<std::int64_t>& repeats) const;
  Tensor flip(const std::vector<std::int64_t>& dims) const;
  Tensor masked_fill(const Tensor& mask, double value) const;
  Tensor square() const;

 private:
  friend struct detail::TensorAccess;
  std::shared_ptr<TensorImpl> impl_;
};

/// Prints like PyTorch: "tensor([[1.0000, 2.0000], ...], dtype=float64, requires_grad=true)".
std::ostream& operator<<(std::ostream& os, const Tensor& t);

// ---- creation ----
Tensor empty(const Shape& shape, TensorOptions opts = {});
Tensor zeros(const Shape& shape, TensorOptions opts = {});
Tensor ones(const Shape& shape, TensorOptions opts = {});
Tensor full(const Shape& shape, double value, TensorOptions opts = {});
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
/// Identity matrix (n x n).
Tensor eye(std::int64_t n, TensorOptions opts = {});
/// start, start+step, ... below end (1-D).
Tensor arange(double start, double end, double step = 1, TensorOptions opts = {});
Tensor arange(std::int64_t end, TensorOptions opts = {});
/// Row-major values with a shape ({} means 1-D of values.size()).
Tensor from_vector(const std::vector<float>& values, const Shape& shape = {},
                   TensorOptions opts = {});
Tensor from_vector(const std::vector<double>& values, const Shape& shape = {},
                   TensorOptions opts = {.dtype = kFloat64});
Tensor from_vector(const std::vector<std::int64_t>& values, const Shape& shape = {},
                   TensorOptions opts = {.dtype = kInt64});
/// Literal values, e.g. tensor({1, 2, 3, 4}, {2, 2}); float32 unless opts say otherwise.
Tensor tensor(std::initializer_list<double> values, const Shape& shape = {},
              TensorOptions opts = {});
/// A 0-d tensor holding one value.
Tensor scalar_tensor(double value, TensorOptions opts = {});

}  // namespace tapegrad
