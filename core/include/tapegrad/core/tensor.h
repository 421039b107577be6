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

#include "tapegrad/core/detail/ref_ptr.h"
#include "tapegrad/core/dtype.h"

namespace tapegrad {

struct TensorImpl;  // defined in core/src/tensor/tensor_impl.h; users never need it
namespace detail {
struct TensorAccess;  // how tapegrad's own libraries reach a handle's TensorImpl
}
struct BackwardOptions;  // autograd/grad.h

/// How a new tensor is made: element type and whether gradients flow into it.
struct TensorOptions {
  Dtype dtype = kFloat32;  ///< element type of the values
  /// True: a leaf whose gradient backward() accumulates (floating dtypes only).
  bool requires_grad = false;
};

/// A shared handle to an n-dimensional, contiguous, row-major array of one Dtype; the ops applied
/// to it are recorded on the tape when it requires grad (as torch::Tensor). Copies of a handle
/// share values and gradient; clone() copies the values.
class Tensor {
 public:
  /// An undefined tensor (like a default torch::Tensor); most calls on it throw StateError.
  Tensor() noexcept;
  /// Wraps an implementation: for tapegrad's own libraries (users make tensors with zeros(), etc.).
  explicit Tensor(RefPtr<TensorImpl> impl);
  /// Copies share the values (a reference count, kept in the implementation, is bumped); a
  /// moved-from tensor is undefined. Defined where TensorImpl is complete.
  ///@{
  Tensor(const Tensor& other);
  Tensor(Tensor&& other) noexcept;
  Tensor& operator=(const Tensor& other);
  Tensor& operator=(Tensor&& other) noexcept;
  ~Tensor();
  ///@}

  // ---- shape and type ----
  /// False for a default-constructed (undefined) tensor.
  bool defined() const { return impl_ != nullptr; }
  /// Sizes of each dimension, outermost first ({} for a 0-d tensor).
  const Shape& shape() const;
  /// Size of dimension d; negative d counts from the end.
  std::int64_t size(std::int64_t d) const;
  /// Number of dimensions (0 for a 0-d tensor).
  std::int64_t dim() const;
  /// Number of elements: the product of the sizes (1 for a 0-d tensor).
  std::int64_t numel() const;
  /// Element type of the values.
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
  /// Removes the hook registered under handle (register_post_accumulate_grad_hook's result); an
  /// unknown handle is ignored.
  void remove_post_accumulate_grad_hook(int handle) const;
  /// Reverse-mode differentiation from here; grad defaults to 1 for a one-element tensor.
  void backward(const Tensor& grad = Tensor(), bool retain_graph = false) const;
  /// The same with backward()'s options (autograd/grad.h): `loss.backward({}, {.create_graph =
  /// true})` leaves .grad tensors that can be differentiated again.
  void backward(const Tensor& grad, const BackwardOptions& options) const;

  // ---- in-place updates (never recorded: for optimizers and initialisers) ----
  /// Sets every element to value; returns *this.
  const Tensor& fill_(double value) const;
  /// Copies src's values in, broadcast to this shape (else ShapeError) and converted to this dtype.
  const Tensor& copy_(const Tensor& src) const;
  /// Adds alpha * other in place, other broadcast to this shape (else ShapeError).
  const Tensor& add_(const Tensor& other, double alpha = 1) const;
  /// Multiplies every element by factor in place.
  const Tensor& mul_(double factor) const;

  // ---- method forms of the ops in ops.h ----
  /// tapegrad::sum(*this): the sum of every element (0-d).
  Tensor sum() const;
  /// tapegrad::sum(*this, dim, keepdim): sums along dim (kept with size 1 when keepdim).
  Tensor sum(std::int64_t dim, bool keepdim = false) const;
  /// tapegrad::mean(*this): the mean of every element (0-d).
  Tensor mean() const;
  /// tapegrad::mean(*this, dim, keepdim): means along dim (kept with size 1 when keepdim).
  Tensor mean(std::int64_t dim, bool keepdim = false) const;
  /// tapegrad::max(*this): the largest element (0-d; ties share the gradient).
  Tensor max() const;
  /// tapegrad::min(*this): the smallest element (0-d; ties share the gradient).
  Tensor min() const;
  /// tapegrad::argmax(*this, dim, keepdim): int64 indices of the largest values along dim.
  Tensor argmax(std::int64_t dim, bool keepdim = false) const;
  /// tapegrad::reshape(*this, shape): the same storage in a new shape (one size may be -1).
  Tensor reshape(const Shape& shape) const;
  /// tapegrad::view(*this, shape): the same as reshape (a tensor's storage is always contiguous).
  Tensor view(const Shape& shape) const;
  /// tapegrad::flatten(*this, start_dim, end_dim): dims start_dim to end_dim merged into one.
  Tensor flatten(std::int64_t start_dim = 0, std::int64_t end_dim = -1) const;
  /// tapegrad::transpose(*this, d0, d1): a copy with dims d0 and d1 swapped.
  Tensor transpose(std::int64_t d0, std::int64_t d1) const;
  /// tapegrad::t(*this): the transpose of a 2-D tensor (ShapeError for other ranks).
  Tensor t() const;
  /// tapegrad::matmul(*this, other): torch.matmul's product (1-D, 2-D or batched N-d).
  Tensor matmul(const Tensor& other) const;
  /// tapegrad::pow(*this, exponent): each element raised to a scalar power.
  Tensor pow(double exponent) const;
  /// tapegrad::exp(*this): e to each element.
  Tensor exp() const;
  /// tapegrad::log(*this): the natural logarithm of each element.
  Tensor log() const;
  /// tapegrad::sqrt(*this): the square root of each element.
  Tensor sqrt() const;
  /// tapegrad::abs(*this): the absolute value of each element.
  Tensor abs() const;
  /// tapegrad::sigmoid(*this): 1 / (1 + e^-x) elementwise.
  Tensor sigmoid() const;
  /// tapegrad::tanh(*this): the hyperbolic tangent elementwise.
  Tensor tanh() const;
  /// tapegrad::relu(*this): max(x, 0) elementwise.
  Tensor relu() const;
  /// tapegrad::softmax(*this, dim): exponentials normalised to sum to 1 along dim.
  Tensor softmax(std::int64_t dim) const;
  /// tapegrad::log_softmax(*this, dim): the log of softmax along dim, computed stably.
  Tensor log_softmax(std::int64_t dim) const;
  /// tapegrad::narrow(*this, dim, start, length): the slice [start, start + length) of dim.
  Tensor narrow(std::int64_t dim, std::int64_t start, std::int64_t length) const;
  /// tapegrad::index_select(*this, dim, index): the entries at the int64 indices along dim.
  Tensor index_select(std::int64_t dim, const Tensor& index) const;
  /// tapegrad::gather(*this, dim, index): one element along dim per int64 index.
  Tensor gather(std::int64_t dim, const Tensor& index) const;
  /// tapegrad::unsqueeze(*this, dim): a new dim of size 1 at dim.
  Tensor unsqueeze(std::int64_t dim) const;
  /// tapegrad::squeeze(*this): every dim of size 1 removed.
  Tensor squeeze() const;
  /// tapegrad::squeeze(*this, dim): dim removed if its size is 1 (else unchanged).
  Tensor squeeze(std::int64_t dim) const;
  /// tapegrad::permute(*this, dims): a copy with the dims in a new order.
  Tensor permute(const std::vector<std::int64_t>& dims) const;
  /// tapegrad::expand(*this, shape): broadcast to shape (a copy; -1 keeps a size).
  Tensor expand(const Shape& shape) const;
  /// tapegrad::repeat(*this, repeats): tiled repeats[d] times along each dim.
  Tensor repeat(const std::vector<std::int64_t>& repeats) const;
  /// tapegrad::flip(*this, dims): the order of each of dims reversed.
  Tensor flip(const std::vector<std::int64_t>& dims) const;
  /// tapegrad::masked_fill(*this, mask, value): value wherever mask is non-zero.
  Tensor masked_fill(const Tensor& mask, double value) const;
  /// tapegrad::square(*this): x * x elementwise.
  Tensor square() const;

 private:
  friend struct detail::TensorAccess;
  RefPtr<TensorImpl> impl_;
};

/// Prints like PyTorch: "tensor([[1.0000, 2.0000], ...], dtype=float64, requires_grad=true)".
std::ostream& operator<<(std::ostream& os, const Tensor& t);

// ---- creation ----
/// A tensor of the given shape whose values are uninitialised (write them before reading).
Tensor empty(const Shape& shape, TensorOptions opts = {});
/// A tensor of zeros.
Tensor zeros(const Shape& shape, TensorOptions opts = {});
/// A tensor of ones.
Tensor ones(const Shape& shape, TensorOptions opts = {});
/// A tensor with every element equal to value.
Tensor full(const Shape& shape, double value, TensorOptions opts = {});
/// Zeros of t's shape and dtype (not requiring grad).
Tensor zeros_like(const Tensor& t);
/// Ones of t's shape and dtype (not requiring grad).
Tensor ones_like(const Tensor& t);
/// Identity matrix (n x n).
Tensor eye(std::int64_t n, TensorOptions opts = {});
/// start, start+step, ... below end (1-D).
Tensor arange(double start, double end, double step = 1, TensorOptions opts = {});
/// 0, 1, ... below end (1-D; float32 unless opts say otherwise).
Tensor arange(std::int64_t end, TensorOptions opts = {});
/// Row-major values with a shape ({} means 1-D of values.size()).
Tensor from_vector(const std::vector<float>& values, const Shape& shape = {},
                   TensorOptions opts = {});
/// The same, from doubles: float64 with the default options.
Tensor from_vector(const std::vector<double>& values, const Shape& shape = {},
                   TensorOptions opts = {.dtype = kFloat64});
/// The same, from int64 values: int64 with the default options.
Tensor from_vector(const std::vector<std::int64_t>& values, const Shape& shape = {},
                   TensorOptions opts = {.dtype = kInt64});
/// Literal values, e.g. tensor({1, 2, 3, 4}, {2, 2}); float32 unless opts say otherwise.
Tensor tensor(std::initializer_list<double> values, const Shape& shape = {},
              TensorOptions opts = {});
/// A 0-d tensor holding one value.
Tensor scalar_tensor(double value, TensorOptions opts = {});

}  // namespace tapegrad
