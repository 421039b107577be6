// Layer and group normalisation, fused, on one kernel: x is seen as (O, P, S) with its P
// affine positions split into G groups; each row (o, g) holds K = P / G * S consecutive values
// and is normalised by its own mean and biased variance, then scaled and shifted per position p.
//   layer_norm:  O = the leading dims, P = prod(normalized_shape), S = 1, G = 1
//   group_norm:  O = N, P = C, S = the spatial dims, G = num_groups
// Legend: xhat = (x - mean) * invstd, g = gy * weight[p].
//   gx = invstd * (g - (sum(g) + xhat * sum(g * xhat)) / K)      (sums over the row)
//   gweight[p] = sum(gy * xhat),  gbias[p] = sum(gy)               (sums over o and s)
#include "tapegrad/core/ops/layer_norm.h"

#include <cmath>
#include <memory>

#include "autograd/tape.h"
#include "kernels/dispatch.h"
#include "runtime/parallel_chunks.h"
#include "tapegrad/core/ops.h"
#include "tapegrad/core/ops/batch_norm.h"
#include "tensor/check.h"

namespace tapegrad {

namespace {
struct RowDims {
  std::int64_t O, P, S, G;
  std::int64_t per_group() const { return P / G; }
  std::int64_t K() const { return P / G * S; }
  std::int64_t rows() const { return O * G; }
};

void check_affine(const char* op, const char* what, const Tensor& t, const TensorImpl& x,
                  const Shape& want) {
  if (!t.defined()) return;
  if (t.shape() != want)
    throw ShapeError(msg(op, ": ", what, " must be ", shape_str(want), " for the input ",
                         shape_str(x.shape), ": got ", shape_str(t.shape())));
  if (t.dtype() != x.dtype)
    throw ValueError(msg(op, ": ", what, " is ", dtype_name(t.dtype()), " but the input is ",
                         dtype_name(x.dtype)));
}

Tensor row_norm(const char* op, const Tensor& x, const RowDims d, const Tensor& weight,
                const Tensor& bias, double eps) {
  const TensorImpl& ix = impl_of(x, op);
  if (!(eps > 0)) throw ValueError(msg(op, ": eps must be > 0, got ", eps));
  const std::int64_t K = d.K(), R = d.rows(), per = d.per_group();
  return dispatch_float(ix.dtype, op, [&]<typename T>() {
    ImplPtr y = make_impl(ix.shape, ix.dtype);
    // Statistics in double, so that float32's backward recomputes xhat without their rounding.
    auto stats = std::make_shared<std::vector<double>>(static_cast<std::size_t>(2 * R));
    const T* xv = ix.data<T>();
    T* yv = y->data<T>();
    const T* w = weight.defined() ? weight.data<T>() : nullptr;
    const T* b = bias.defined() ? bias.data<T>() : nullptr;
    parallel_chunks(
        R,
        [&](std::int64_t r0, std::int64_t r1) {
          for (std::int64_t r = r0; r < r1; ++r) {
            const std::int64_t at = r * K;
            const auto row = Eigen::Map<const ArrayX<T>>(xv + at, K).template cast<double>();
            const double mu = row.sum() / static_cast<double>(K);
            const double is =
                1 / std::sqrt((row - mu).square().sum() / static_cast<double>(K) + eps);
            (*stats)[2 * r] = mu;
            (*stats)[2 * r + 1] = is;
            if (d.S == 1 && d.G == 1) {  // layer norm: the row is the affine positions, in order
              const auto x = Eigen::Map<const ArrayX<T>>(xv + at, K);
              auto yr = Eigen::Map<ArrayX<T>>(yv + at, K);
              if (w) {
                const auto wd = Eigen::Map<const ArrayX<T>>(w, K).template cast<double>();
                const auto scale = (wd * is).template cast<T>();
                if (b)
                  yr = x * scale +
                       (Eigen::Map<const ArrayX<T>>(b, K).template cast<double>() - wd * (mu * is))
                           .template cast<T>();
                else
                  yr = x * scale + (-wd * (mu * is)).template cast<T>();
              } else if (b) {
                yr = x * static_cast<T>(is) +
                     (Eigen::Map<const ArrayX<T>>(b, K).template cast<double>() - mu * is)
                         .template cast<T>();
              } else {
                yr = x * static_cast<T>(is) + static_cast<T>(-mu * is);
              }
              continue;
            }
            const std::int64_t p0 = r % d.G * per;
            for (std::int64_t c = 0; c < per; ++c) {  // one affine position: S values
              const double wc = w ? w[p0 + c] : 1, bc = b ? b[p0 + c] : 0;
              const T scale = static_cast<T>(is * wc), shift = static_cast<T>(bc - mu * is * wc);
              const std::int64_t a = at + c * d.S;
              Eigen::Map<ArrayX<T>>(yv + a, d.S) =
                  Eigen::Map<const ArrayX<T>>(xv + a, d.S) * scale + shift;
            }
          }
        },
        K);
    std::vector<Tensor> inputs{x};
    if (weight.defined()) inputs.push_back(weight);
    if (bias.defined()) inputs.push_back(bias);
    const bool has_w = weight.defined(), has_b = bias.defined();
    // create_graph: the statistics and the same formulas in recorded ops, on x seen as
    // (O, G, K) rows and as (O, P, S) positions.
    auto graph = [d, eps, has_w, has_b](GraphCtx& c) {
      const Tensor x = c.in(0);
      const std::int64_t K = d.K();
      const Tensor rows = reshape(x, {d.O, d.G, K});
      const Tensor centred = rows - mean(rows, 2, true);
      const Tensor invstd = rsqrt(mean(square(centred), 2, true) + eps);
      const Tensor xhat = centred * invstd;
      const Tensor gy = reshape(c.grad_out(), {d.O, d.P, d.S});
      const Tensor w = has_w ? reshape(c.in(1), {1, d.P, 1}) : Tensor();
      if (c.needs(0)) {
        const Tensor g = reshape(has_w ? gy * w : gy, {d.O, d.G, K});
        const Tensor gx = invstd * (g - mean(g, 2, true) - xhat * mean(g * xhat, 2, true));
        c.add(0, reshape(gx, x.shape()));
      }
      if (has_w && c.needs(1)) {
        const Tensor per_position = sum(sum(gy * reshape(xhat, {d.O, d.P, d.S}), 2), 0);
        c.add(1, reshape(per_position, c.in(1).shape()));
      }
      const std::size_t b = has_w ? 2 : 1;
      if (has_b && c.needs(b)) c.add(b, reshape(sum(sum(gy, 2), 0), c.in(b).shape()));
    };
    return record(
        op, std::move(y), inputs,
        WithGraph{
            [d, stats, has_w, has_b](BackwardCtx& c) {
              TensorImpl* gx = c.grad_in(0);
              TensorImpl* gw = has_w ? c.grad_in(1) : nullptr;
              TensorImpl* gb = has_b ? c.grad_in(has_w ? 2 : 1) : nullptr;
              const T* xv = c.in(0).data<T>();
              const T* gy = c.grad_out().data<T>();
              const T* w = has_w ? c.in(1).data<T>() : nullptr;
              const std::int64_t K = d.K(), per = d.per_group();
              const auto xhat = [&](std::int64_t r, std::int64_t at) {
                return (xv[at] - (*stats)[2 * r]) * (*stats)[2 * r + 1];
              };
              const bool rows_are_positions = d.S == 1 && d.G == 1;  // layer norm
              if (gx && rows_are_positions)
                parallel_chunks(
                    d.rows(),
                    [&](std::int64_t r0, std::int64_t r1) {
                      for (std::int64_t r = r0; r < r1; ++r) {
                        const std::int64_t at = r * K;
                        const double mu = (*stats)[2 * r], is = (*stats)[2 * r + 1];
                        const auto xhat =
                            (Eigen::Map<const ArrayX<T>>(xv + at, K).template cast<double>() - mu) *
                            is;
                        const auto gd =
                            Eigen::Map<const ArrayX<T>>(gy + at, K).template cast<double>();
                        auto out = Eigen::Map<ArrayX<T>>(gx->data<T>() + at, K);
                        const double kk = static_cast<double>(K);
                        if (w) {
                          const auto g =
                              gd * Eigen::Map<const ArrayX<T>>(w, K).template cast<double>();
                          const double sg = g.sum(), sgx = (g * xhat).sum();
                          out += (is * (g - (sg + xhat * sgx) / kk)).template cast<T>();
                        } else {
                          const double sg = gd.sum(), sgx = (gd * xhat).sum();
                          out += (is * (gd - (sg + xhat * sgx) / kk)).template cast<T>();
                        }
                      }
                    },
                    K);
              else if (gx)
                parallel_chunks(
                    d.rows(),
                    [&](std::int64_t r0, std::int64_t r1) {
                      for (std::int64_t r = r0; r < r1; ++r) {
                        const std::int64_t at = r * K, p0 = r % d.G * per;
                        double sg = 0, sgx = 0;
                        for (std::int64_t ch = 0; ch < per; ++ch) {
                          const double wc = w ? w[p0 + ch] : 1.0;
                          for (std::int64_t j = at + ch * d.S; j < at + (ch + 1) * d.S; ++j) {
                            sg += gy[j] * wc;
                            sgx += gy[j] * wc * xhat(r, j);
                          }
                        }
                        const double is = (*stats)[2 * r + 1], kk = static_cast<double>(K);
                        T* out = gx->data<T>();
                        for (std::int64_t ch = 0; ch < per; ++ch) {
                          const double wc = w ? w[p0 + ch] : 1.0;
                          for (std::int64_t j = at + ch * d.S; j < at + (ch + 1) * d.S; ++j)
                            out[j] +=
                                static_cast<T>(is * (gy[j] * wc - (sg + xhat(r, j) * sgx) / kk));
                        }
                      }
                    },
                    K);
              if ((gw || gb) && rows_are_positions) {
                // Row after row over each thread's block of positions: contiguous reads, and
                // every position's sum in the same order (rows ascending) on any team.
                ArrayX<double> sw = ArrayX<double>::Zero(K), sb = ArrayX<double>::Zero(K);
                parallel_chunks(
                    K,
                    [&](std::int64_t k0, std::int64_t k1) {
                      const std::int64_t n = k1 - k0;
                      auto swb = sw.segment(k0, n);
                      auto sbb = sb.segment(k0, n);
                      for (std::int64_t r = 0; r < d.rows(); ++r) {
                        const std::int64_t at = r * K + k0;
                        const auto gd =
                            Eigen::Map<const ArrayX<T>>(gy + at, n).template cast<double>();
                        sbb += gd;
                        swb +=
                            gd * ((Eigen::Map<const ArrayX<T>>(xv + at, n).template cast<double>() -
                                   (*stats)[2 * r]) *
                                  (*stats)[2 * r + 1]);
                      }
                    },
                    d.rows());
                if (gw) Eigen::Map<ArrayX<T>>(gw->data<T>(), K) += sw.template cast<T>();
                if (gb) Eigen::Map<ArrayX<T>>(gb->data<T>(), K) += sb.template cast<T>();
              } else if (gw || gb)
                parallel_chunks(
                    d.P,
                    [&](std::int64_t p0, std::int64_t p1) {
                      for (std::int64_t p = p0; p < p1; ++p) {
                        double sw = 0, sb = 0;
                        for (std::int64_t o = 0; o < d.O; ++o) {
                          const std::int64_t r = o * d.G + p / per, at = (o * d.P + p) * d.S;
                          for (std::int64_t s = 0; s < d.S; ++s) {
                            sb += gy[at + s];
                            sw += gy[at + s] * xhat(r, at + s);
                          }
                        }
                        if (gw) gw->data<T>()[p] += static_cast<T>(sw);
                        if (gb) gb->data<T>()[p] += static_cast<T>(sb);
                      }
                    },
                    d.O * d.S);
            },
            std::move(graph)});
  });
}
}  // namespace

Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight,
                  const Tensor& bias, double eps) {
  const TensorImpl& ix = impl_of(x, "layer_norm");
  check_floating("layer_norm", ix);
  const std::size_t k = normalized_shape.size(), r = ix.shape.size();
  if (k == 0) throw ShapeError("layer_norm: normalized_shape must hold at least one dim: got []");
  if (k > r || !std::equal(normalized_shape.begin(), normalized_shape.end(), ix.shape.end() - k))
    throw ShapeError(msg("layer_norm: normalized_shape ", shape_str(normalized_shape),
                         " must be the last dims of the input: got input ", shape_str(ix.shape)));
  check_affine("layer_norm", "weight", weight, ix, normalized_shape);
  check_affine("layer_norm", "bias", bias, ix, normalized_shape);
  RowDims d{1, 1, 1, 1};
  for (std::size_t i = 0; i < r; ++i) (i < r - k ? d.O : d.P) *= ix.shape[i];
  return row_norm("layer_norm", x, d, weight, bias, eps);
}

Tensor group_norm(const Tensor& x, std::int64_t num_groups, const Tensor& weight,
                  const Tensor& bias, double eps) {
  const TensorImpl& ix = impl_of(x, "group_norm");
  check_floating("group_norm", ix);
  if (ix.shape.size() < 2)
    throw ShapeError(msg("group_norm: the input must be (N, C, ...): got ", shape_str(ix.shape)));
  const std::int64_t C = ix.shape[1];
  if (num_groups < 1 || C % num_groups != 0)
    throw ValueError(msg("group_norm: num_groups must divide the ", C, " channels of the input ",
                         shape_str(ix.shape), ": got ", num_groups));
  check_affine("group_norm", "weight", weight, ix, {C});
  check_affine("group_norm", "bias", bias, ix, {C});
  RowDims d{ix.shape[0], C, 1, num_groups};
  for (std::size_t i = 2; i < ix.shape.size(); ++i) d.S *= ix.shape[i];
  return row_norm("group_norm", x, d, weight, bias, eps);
}

}  // namespace tapegrad
