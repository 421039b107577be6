// Pointwise activations, as torch.nn.functional's (kinks and thresholds included).
#pragma once
#include <cstdint>

#include "tapegrad/core/tensor.h"

namespace tapegrad {

/// 1 / (1 + e^-x).
Tensor sigmoid(const Tensor& x);
/// The hyperbolic tangent.
Tensor tanh(const Tensor& x);
/// max(x, 0); the gradient at 0 is 0.
Tensor relu(const Tensor& x);
/// x for x > 0, negative_slope x otherwise.
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

}  // namespace tapegrad
