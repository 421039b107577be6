// Pointwise activations. Each comment gives y and dy/dx as torch 1.13 computes them (kinks and
// thresholds included); backward adds g * dy/dx into gx.
#include <cmath>
#include <unsupported/Eigen/SpecialFunctions>  // erf over whole arrays, vectorised for float

#include "kernels/dispatch.h"
#include "kernels/elementwise.h"
#include "tapegrad/core/ops.h"

namespace tapegrad {
namespace {
// 1 where v > c (v < c), else 0, in v's dtype: the pieces of a piecewise derivative, constants
// to the graph (comparisons are never recorded).
Tensor above(const Tensor& v, double c) { return gt(v, scalar_tensor(c, {.dtype = v.dtype()})); }
Tensor below(const Tensor& v, double c) { return lt(v, scalar_tensor(c, {.dtype = v.dtype()})); }
}  // namespace

// y = 1 / (1 + e^-x).   dy/dx = y (1 - y).   e^-x overflows to inf for x << 0, giving y = 0.
Tensor sigmoid(const Tensor& x) {
  return unary_op(
      "sigmoid", x, [](const auto& v) { return ((-v).exp() + scalar_like(v, 1)).inverse(); },
      [](const auto& g, const auto&, const auto& y) { return g * y * (scalar_like(y, 1) - y); },
      [](const Tensor& g, const Tensor& v) {
        const Tensor y = sigmoid(v);
        return g * y * (1.0 - y);
      });
}

// y = tanh x.   dy/dx = 1 - y^2.
Tensor tanh(const Tensor& x) {
  return unary_op(
      "tanh", x, [](const auto& v) { return v.tanh(); },
      [](const auto& g, const auto&, const auto& y) {
        return g * (scalar_like(y, 1) - y.square());
      },
      [](const Tensor& g, const Tensor& v) { return g * (1.0 - square(tanh(v))); });
}

// y = max(x, 0).   dy/dx = 1 for x > 0, else 0.
Tensor relu(const Tensor& x) {
  return unary_op(
      "relu", x, [](const auto& v) { return v.max(scalar_like(v, 0)); },
      [](const auto& g, const auto& v) {
        using S = typename std::decay_t<decltype(v)>::Scalar;
        return g * (v > S(0)).template cast<S>();
      },
      [](const Tensor& g, const Tensor& v) { return g * above(v, 0); });
}

// y = x for x > 0, slope x otherwise.   dy/dx = 1 or slope.
Tensor leaky_relu(const Tensor& x, double slope) {
  return unary_op(
      "leaky_relu", x,
      [slope](const auto& v) {
        return (v > scalar_like(v, 0)).select(v, v * scalar_like(v, slope));
      },
      [slope](const auto& g, const auto& v) {
        return (v > scalar_like(v, 0)).select(g, g * scalar_like(v, slope));
      },
      [slope](const Tensor& g, const Tensor& v) {
        return g * (above(v, 0) * (1 - slope) + slope);
      });
}

// y = log(1 + e^(beta x)) / beta, or x where beta x > threshold.
// dy/dx = z / (z + 1) with z = e^(beta x), or 1 past the threshold.
Tensor softplus(const Tensor& x, double beta, double threshold) {
  if (!std::isfinite(beta) || beta == 0 || std::isnan(threshold))
    throw ValueError(
        msg("softplus: beta must be finite and non-zero and threshold not NaN: got "
            "beta ",
            beta, ", threshold ", threshold));
  return unary_op(
      "softplus", x,
      [beta, threshold](const auto& v) {
        const auto bx = v * scalar_like(v, beta);
        return (bx > scalar_like(v, threshold)).select(v, bx.exp().log1p() / scalar_like(v, beta));
      },
      [beta, threshold](const auto& g, const auto& v) {
        const auto bx = v * scalar_like(v, beta);
        const auto z = bx.exp();
        return (bx > scalar_like(v, threshold)).select(g, g * z / (z + scalar_like(v, 1)));
      },
      [beta, threshold](const Tensor& g, const Tensor& v) {
        // z / (z + 1) is sigmoid(beta x); past the threshold the derivative is 1.
        const Tensor past = above(v * beta, threshold);
        return g * (past + (1.0 - past) * sigmoid(v * beta));
      });
}

// y = x for x > 0, alpha (e^x - 1) otherwise.   dy/dx = 1, or alpha e^x (x = 0 takes this side).
Tensor elu(const Tensor& x, double alpha) {
  if (!std::isfinite(alpha)) throw ValueError(msg("elu: alpha must be finite, got ", alpha));
  return unary_op(
      "elu", x,
      [alpha](const auto& v) {
        return (v > scalar_like(v, 0)).select(v, v.expm1() * scalar_like(v, alpha));
      },
      [alpha](const auto& g, const auto& v) {
        return (v > scalar_like(v, 0)).select(g, g * v.exp() * scalar_like(v, alpha));
      },
      [alpha](const Tensor& g, const Tensor& v) {
        const Tensor pos = above(v, 0);
        return g * (pos + (1.0 - pos) * exp(v) * alpha);
      });
}

// Exact:  y = x Phi(x), Phi(x) = (1 + erf(x / sqrt 2)) / 2.   dy/dx = Phi(x) + x phi(x).
// Tanh:   y = x (1 + tanh u) / 2, u = sqrt(2/pi) (x + 0.044715 x^3).
//         dy/dx = (1 + tanh u) / 2 + x / 2 (1 - tanh^2 u) sqrt(2/pi) (1 + 3 0.044715 x^2).
namespace {
constexpr double kRsqrt2 = 0.70710678118654752440;    // 1 / sqrt(2)
constexpr double kRsqrt2Pi = 0.39894228040143267794;  // 1 / sqrt(2 pi)
constexpr double kBeta = 0.79788456080286535588;      // sqrt(2 / pi)
constexpr double kKappa = 0.044715;
// -2u, u = beta (x + kappa x^3): gelu tanh's sigmoid(2u) is 1 / (1 + e^-2u).
template <typename V>
auto gelu_tanh_m2u(const V& v) {
  return (v + scalar_like(v, kKappa) * v.cube()) * scalar_like(v, -2 * kBeta);
}
}  // namespace

Tensor gelu(const Tensor& x, GeluApproximate approximate) {
  if (approximate == GeluApproximate::Tanh)
    return unary_op(
        "gelu", x,
        // y = x (1 + tanh u) / 2 = x sigmoid(2u): Eigen's exp is vectorised in both dtypes,
        // its tanh only in float. Far left exp overflows to inf and sigmoid is 0: y is -0
        // there and NaN at -inf, as torch's.
        [](const auto& v) { return v * (scalar_like(v, 1) + gelu_tanh_m2u(v).exp()).inverse(); },
        [](const auto& g, const auto& v) {
          // With s = sigmoid(2u) = (1 + tanh u) / 2: 1 - tanh^2 u = 4 s (1 - s), so
          // dy/dx = s (1 + 2 x u' (1 - s)), u' = beta (1 + 3 kappa x^2). In Eigen's vectorised
          // exp (std::tanh per element was most of the op's time), and without the
          // cancellation 1 - tanh^2 suffers as tanh nears 1: float32 within 2e-7 of float64
          // in the tails where torch's own float32 is 1e-6 off.
          // s and 1 - s each from its own exp: where one overflows to inf the other is 0 or 1
          // exactly, so far left s = 0 makes dy/dx 0 and far right 1 - s = 0 makes it 1, with
          // no select (Eigen 3.4's is scalar) and no overflow short of x^3's own (|x| > 1e13 in
          // float32, where torch's float32 gives NaN too). At +-inf it is NaN, as torch's.
          const auto m2u = gelu_tanh_m2u(v);
          const auto s = (scalar_like(v, 1) + m2u.exp()).inverse();
          const auto one_minus_s = (scalar_like(v, 1) + (-m2u).exp()).inverse();
          return g * s *
                 (scalar_like(v, 1) +
                  scalar_like(v, 2 * kBeta) * v *
                      (scalar_like(v, 1) + scalar_like(v, 3 * kKappa) * v.square()) * one_minus_s);
        },
        [](const Tensor& g, const Tensor& v) {
          const Tensor th = tanh((v + kKappa * v * v * v) * kBeta);
          return g * (0.5 * (1.0 + th) +
                      0.5 * v * (1.0 - th * th) * kBeta * (1.0 + 3 * kKappa * v * v));
        });
  return unary_op(
      "gelu", x,
      [](const auto& v) {
        return v * scalar_like(v, 0.5) * (scalar_like(v, 1) + (v * scalar_like(v, kRsqrt2)).erf());
      },
      [](const auto& g, const auto& v) {
        const auto cdf =
            scalar_like(v, 0.5) * (scalar_like(v, 1) + (v * scalar_like(v, kRsqrt2)).erf());
        const auto pdf = (v.square() * scalar_like(v, -0.5)).exp() * scalar_like(v, kRsqrt2Pi);
        return g * (cdf + v * pdf);
      },
      [](const Tensor& g, const Tensor& v) {
        const Tensor cdf = 0.5 * (1.0 + erf(v * kRsqrt2));
        const Tensor pdf = exp(square(v) * -0.5) * kRsqrt2Pi;
        return g * (cdf + v * pdf);
      });
}

// y = x s, s = 1 / (1 + e^-x).   dy/dx = s (1 + x (1 - s)).
Tensor silu(const Tensor& x) {
  return unary_op(
      "silu", x, [](const auto& v) { return v / ((-v).exp() + scalar_like(v, 1)); },
      [](const auto& g, const auto& v) {
        using S = typename std::decay_t<decltype(v)>::Scalar;
        return g * v.unaryExpr([](S e) {
          const S s = 1 / (1 + std::exp(-e));
          return s * (1 + e * (1 - s));
        });
      },
      [](const Tensor& g, const Tensor& v) {
        const Tensor s = sigmoid(v);
        return g * (s * (1.0 + v * (1.0 - s)));
      });
}

// y = min(max(x, lo), hi).   dy/dx = 1 strictly inside (lo, hi), else 0.
Tensor hardtanh(const Tensor& x, double lo, double hi) {
  if (!(lo <= hi))
    throw ValueError(msg("hardtanh: min_val must be <= max_val: got ", lo, " and ", hi));
  return unary_op(
      "hardtanh", x,
      [lo, hi](const auto& v) {
        return min_nan(max_nan(v, scalar_like(v, lo)), scalar_like(v, hi));
      },
      [lo, hi](const auto& g, const auto& v) {
        return (v > scalar_like(v, lo) && v < scalar_like(v, hi)).select(g, scalar_like(v, 0));
      },
      [lo, hi](const Tensor& g, const Tensor& v) { return g * (above(v, lo) * below(v, hi)); });
}

Tensor relu6(const Tensor& x) { return hardtanh(x, 0, 6); }

}  // namespace tapegrad
