// Every differentiable op, plus comparisons. Binary arithmetic broadcasts as NumPy does and its
// gradient is summed back to each input's shape. Negative dims count from the end.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <utility>
#include <vector>

#include "tapegrad/core/tensor.h"

namespace tapegrad {

/// The dims a reduction runs over: one (amax(x, 1)), several (amax(x, {0, 2})), or none given
/// ({}), which means every dim, as torch's dim=None. Negative dims count from the end.
struct Dims {
  std::vector<std::int64_t> dims;
  Dims() = default;
  Dims(std::int64_t d) : dims{d} {}  // NOLINT: implicit, as torch's int-or-tuple dim
  Dims(std::initializer_list<std::int64_t> ds) : dims(ds) {}
  Dims(std::vector<std::int64_t> ds) : dims(std::move(ds)) {}  // NOLINT
};

// ---- arithmetic (broadcasting) ----
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
/// y = a x + b, elementwise with scalars: the tensor-scalar forms of + - * and neg.
Tensor affine(const Tensor& x, double a, double b);
Tensor neg(const Tensor& x);

Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& x);
Tensor operator+(const Tensor& x, double s);
Tensor operator+(double s, const Tensor& x);
Tensor operator-(const Tensor& x, double s);
Tensor operator-(double s, const Tensor& x);
Tensor operator*(const Tensor& x, double s);
Tensor operator*(double s, const Tensor& x);
Tensor operator/(const Tensor& x, double s);
Tensor operator/(double s, const Tensor& x);

// ---- elementwise math ----
/// x^p for a scalar exponent p.
Tensor pow(const Tensor& x, double p);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor abs(const Tensor& x);
/// x * x (int64 stays int64).
Tensor square(const Tensor& x);
/// 1 / sqrt(x).
Tensor rsqrt(const Tensor& x);
Tensor sin(const Tensor& x);
Tensor cos(const Tensor& x);
/// Limits x to [lo, hi], either bound optional (at least one given), as torch.clamp: with
/// lo > hi every element becomes hi. NaN elements stay NaN. The gradient passes only where
/// lo <= x <= hi.
Tensor clamp(const Tensor& x, std::optional<double> lo, std::optional<double> hi);
Tensor clamp_min(const Tensor& x, double lo);
Tensor clamp_max(const Tensor& x, double hi);
/// The larger / smaller of a and b elementwise (broadcasting; NaN wins). Where a == b the
/// gradient is split evenly between them, as torch's.
Tensor maximum(const Tensor& a, const Tensor& b);
Tensor minimum(const Tensor& a, const Tensor& b);

// ---- selection ----
/// a where cond is non-zero, b elsewhere; cond, a and b broadcast together. Each gradient flows
/// to the elements chosen from it.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
Tensor where(const Tensor& cond, const Tensor& a, double b);
Tensor where(const Tensor& cond, double a, const Tensor& b);
/// x with value wherever mask (broadcast to x's shape) is non-zero; no gradient flows there.
Tensor masked_fill(const Tensor& x, const Tensor& mask, double value);

// ---- activations ----
Tensor sigmoid(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor relu(const Tensor& x);
Tensor leaky_relu(const Tensor& x, double negative_slope = 0.01);
/// log(1 + e^(beta x)) / beta, and x itself where beta x > threshold (torch's softplus).
Tensor softplus(const Tensor& x, double beta = 1, double threshold = 20);
/// x for x > 0, alpha (e^x - 1) otherwise.
Tensor elu(const Tensor& x, double alpha = 1);
/// How gelu evaluates the Gaussian CDF: exactly (erf), or torch's approximate="tanh".
enum class GeluApproximate { None, Tanh };
/// x Phi(x), Phi the standard normal CDF.
Tensor gelu(const Tensor& x, GeluApproximate approximate = GeluApproximate::None);
/// x sigmoid(x) (also called swish).
Tensor silu(const Tensor& x);
/// x limited to [min_val, max_val]; the gradient is 0 at and beyond either bound (torch's).
Tensor hardtanh(const Tensor& x, double min_val = -1, double max_val = 1);
/// hardtanh(x, 0, 6).
Tensor relu6(const Tensor& x);
/// Numerically stable along dim (finite for logits of +-1000).
Tensor softmax(const Tensor& x, std::int64_t dim);
Tensor log_softmax(const Tensor& x, std::int64_t dim);

// ---- reductions ----
Tensor sum(const Tensor& x);
Tensor sum(const Tensor& x, std::int64_t dim, bool keepdim = false);
Tensor mean(const Tensor& x);
Tensor mean(const Tensor& x, std::int64_t dim, bool keepdim = false);
/// Largest values along dim and their indices (int64, first occurrence); grad flows to them.
std::pair<Tensor, Tensor> max(const Tensor& x, std::int64_t dim, bool keepdim = false);
std::pair<Tensor, Tensor> min(const Tensor& x, std::int64_t dim, bool keepdim = false);
/// Largest / smallest element (0-d). The gradient is shared evenly by the elements equal to it
/// (by the NaNs when it is NaN), as torch's.
Tensor max(const Tensor& x);
Tensor min(const Tensor& x);
/// Indices of the largest values along dim (int64, no gradient).
Tensor argmax(const Tensor& x, std::int64_t dim, bool keepdim = false);
/// Largest / smallest values over dims (NaN wins). Unlike max(x, dim), ties share the gradient
/// evenly, as torch's amax / amin.
Tensor amax(const Tensor& x, const Dims& dims = {}, bool keepdim = false);
Tensor amin(const Tensor& x, const Dims& dims = {}, bool keepdim = false);
/// log sum exp over dims, shifted by the maximum: finite for inputs of +-1000.
Tensor logsumexp(const Tensor& x, const Dims& dims, bool keepdim = false);
/// Variance over dims: sum (x - mean)^2 / max(0, N - correction). correction 1 is the unbiased
/// estimate (torch's default, unbiased=true), 0 the population variance.
Tensor var(const Tensor& x, const Dims& dims = {}, double correction = 1, bool keepdim = false);
/// sqrt(var(x, dims, correction, keepdim)).
Tensor std(const Tensor& x, const Dims& dims = {}, double correction = 1, bool keepdim = false);
/// The p-norm over dims: (sum |x|^p)^(1/p) for finite p > 0, max |x| for p = inf. At a zero
/// norm the gradient is 0, as torch's.
Tensor norm(const Tensor& x, double p = 2, const Dims& dims = {}, bool keepdim = false);
/// Running sum along dim (int64 stays int64).
Tensor cumsum(const Tensor& x, std::int64_t dim);

// ---- linear algebra ----
/// 2-D (n x k)(k x m); 3-D batched, a batch of 1 (or a 2-D operand) broadcasting over the other.
Tensor matmul(const Tensor& a, const Tensor& b);
Tensor transpose(const Tensor& x, std::int64_t d0, std::int64_t d1);
/// y = x w^T + b, fused (one GEMM, bias added in the same pass): x (..., n_in), w (n_out, n_in),
/// b (n_out) or undefined -> y (..., n_out). The layout of PyTorch's nn.Linear.
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b = Tensor());
/// Transpose of a 2-D tensor.
Tensor t(const Tensor& x);

// ---- shape ----
/// Same elements, new shape (one size may be -1); shares storage.
Tensor reshape(const Tensor& x, const Shape& shape);
Tensor view(const Tensor& x, const Shape& shape);
Tensor flatten(const Tensor& x, std::int64_t start_dim = 0, std::int64_t end_dim = -1);
/// A new dim of size 1 at dim (-1 appends).
Tensor unsqueeze(const Tensor& x, std::int64_t dim);
/// Every dim of size 1 removed; or dim only, if its size is 1 (else x unchanged, as torch).
Tensor squeeze(const Tensor& x);
Tensor squeeze(const Tensor& x, std::int64_t dim);
/// Dims in a new order: y's dim d is x's dim dims[d] (a copy).
Tensor permute(const Tensor& x, const std::vector<std::int64_t>& dims);
/// x broadcast to shape (a copy): sizes of 1 stretch, -1 keeps x's size, new dims lead. The
/// gradient sums back over the copies.
Tensor expand(const Tensor& x, const Shape& shape);
Tensor broadcast_to(const Tensor& x, const Shape& shape);
/// x tiled repeats[d] times along each dim (repeats may add leading dims), as torch's repeat.
Tensor repeat(const Tensor& x, const std::vector<std::int64_t>& repeats);
/// x with the order of each of dims reversed.
Tensor flip(const Tensor& x, const std::vector<std::int64_t>& dims);
/// Pieces of split_size along dim (the last may be smaller), or of the given sizes (which must
/// sum to the dim's size); each a copy with its own gradient path.
std::vector<Tensor> split(const Tensor& x, std::int64_t split_size, std::int64_t dim = 0);
std::vector<Tensor> split(const Tensor& x, const std::vector<std::int64_t>& sizes,
                          std::int64_t dim = 0);
/// `chunks` pieces of ceil(n / chunks) along dim, as torch's chunk (fewer if n runs out).
std::vector<Tensor> chunk(const Tensor& x, std::int64_t chunks, std::int64_t dim = 0);
/// The slice [start, start + length) of dim (a copy).
Tensor narrow(const Tensor& x, std::int64_t dim, std::int64_t start, std::int64_t length);
/// Python's x[start:end:step] along dim (a copy).
Tensor slice(const Tensor& x, std::int64_t dim, std::int64_t start, std::int64_t end,
             std::int64_t step = 1);
/// Entries of x at the int64 indices along dim (rows of a batch for dim 0).
Tensor index_select(const Tensor& x, std::int64_t dim, const Tensor& index);
/// out[i][j] = x[i][index[i][j]] for dim 1 (torch.gather); index is int64, x's rank.
Tensor gather(const Tensor& x, std::int64_t dim, const Tensor& index);
/// Rows of weight (V, D) at the int64 indices (any shape): out has indices' shape plus (D), as
/// torch's embedding. Repeated indices accumulate their gradients; the row padding_idx (if
/// given; negative counts from V) gets none, so it stays as initialised.
Tensor embedding(const Tensor& indices, const Tensor& weight,
                 std::optional<std::int64_t> padding_idx = std::nullopt);
/// int64 (..., num_classes) with a 1 at each index (no gradient); num_classes -1 takes the
/// largest index + 1.
Tensor one_hot(const Tensor& index, std::int64_t num_classes = -1);
/// Joins tensors along an existing dim.
Tensor cat(const std::vector<Tensor>& xs, std::int64_t dim = 0);
/// Joins tensors along a new dim.
Tensor stack(const std::vector<Tensor>& xs, std::int64_t dim = 0);

// ---- comparisons (broadcasting; 1 where true, 0 where false; in the inputs' dtype; no grad) ----
Tensor eq(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);
/// -1, 0 or 1 by the sign of each element (no gradient, like the comparisons).
Tensor sign(const Tensor& x);

}  // namespace tapegrad
