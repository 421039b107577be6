// Batch normalisation, fused: statistics, normalisation, affine and running-statistics update in
// the forward pass; the gradients in one backward over each channel. x is seen as (N, C, S)
// (S: the product of the spatial dims); channels are split across threads.
// Legend: M = N * S values per channel, xhat = (x - mean) * invstd, g = gy * weight.
//   training:  gx = invstd / M * (M g - sum(g) - xhat * sum(g * xhat))
//   eval:      gx = g * invstd  (the running statistics are constants)
//   gweight = sum(gy * xhat),  gbias = sum(gy)
#include "tapegrad/core/ops/batch_norm.h"

#include <cmath>

#include "autograd/tape.h"
#include "kernels/dispatch.h"
#include "runtime/parallel_chunks.h"
#include "tapegrad/core/ops.h"
#include "tapegrad/core/ops/layer_norm.h"
#include "tensor/check.h"

namespace tapegrad {

namespace {
struct NCS {
  std::int64_t N, C, S;
};

void check_channel_vector(const char* what, const Tensor& t, const TensorImpl& x, std::int64_t C) {
  if (!t.defined()) return;
  if (t.dim() != 1 || t.size(0) != C)
    throw ShapeError(msg("batch_norm: ", what, " must be (", C, ") for the input ",
                         shape_str(x.shape), ": got ", shape_str(t.shape())));
  if (t.dtype() != x.dtype)
    throw ValueError(msg("batch_norm: ", what, " is ", dtype_name(t.dtype()), " but the input is ",
                         dtype_name(x.dtype)));
}
}  // namespace

Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& weight, const Tensor& bias, const BatchNormOptions& o) {
  const TensorImpl& ix = impl_of(x, "batch_norm");
  check_floating("batch_norm", ix);
  if (ix.shape.size() < 2)
    throw ShapeError(msg("batch_norm: the input must be (N, C, ...): got ", shape_str(ix.shape)));
  NCS d{ix.shape[0], ix.shape[1], 1};
  for (std::size_t i = 2; i < ix.shape.size(); ++i) d.S *= ix.shape[i];
  check_channel_vector("running_mean", running_mean, ix, d.C);
  check_channel_vector("running_var", running_var, ix, d.C);
  check_channel_vector("weight", weight, ix, d.C);
  check_channel_vector("bias", bias, ix, d.C);
  if (running_mean.defined() != running_var.defined())
    throw ValueError("batch_norm: running_mean and running_var come together (or neither)");
  if (!o.training && !running_mean.defined())
    throw ValueError("batch_norm: evaluation needs running_mean and running_var");
  if (!(o.eps > 0)) throw ValueError(msg("batch_norm: eps must be > 0, got ", o.eps));
  if (!(o.momentum >= 0 && o.momentum <= 1))
    throw ValueError(msg("batch_norm: momentum must be in [0, 1], got ", o.momentum));
  const std::int64_t M = d.N * d.S;
  if (o.training && M <= 1)
    throw ValueError(
        msg("batch_norm: expected more than 1 value per channel when training, got "
            "input size ",
            shape_str(ix.shape)));
  return dispatch_float(ix.dtype, "batch_norm", [&]<typename T>() {
    ImplPtr y = make_impl(ix.shape, ix.dtype);
    ImplPtr mean = make_impl({d.C}, ix.dtype), invstd = make_impl({d.C}, ix.dtype);
    const T* xv = ix.data<T>();
    T* yv = y->data<T>();
    const T* w = weight.defined() ? weight.data<T>() : nullptr;
    const T* b = bias.defined() ? bias.data<T>() : nullptr;
    T* rm = running_mean.defined() ? running_mean.data<T>() : nullptr;
    T* rv = running_var.defined() ? running_var.data<T>() : nullptr;
    parallel_chunks(
        d.C,
        [&](std::int64_t c0, std::int64_t c1) {
          for (std::int64_t c = c0; c < c1; ++c) {
            double mu, var;
            if (o.training) {  // two passes in double: stable for float32 too
              double s = 0;
              for (std::int64_t n = 0; n < d.N; ++n)
                s += cvec<T>(ix).segment((n * d.C + c) * d.S, d.S).template cast<double>().sum();
              mu = s / static_cast<double>(M);
              double q = 0;
              for (std::int64_t n = 0; n < d.N; ++n)
                q += (cvec<T>(ix).segment((n * d.C + c) * d.S, d.S).template cast<double>() - mu)
                         .square()
                         .sum();
              var = q / static_cast<double>(M);
              if (rm) {
                rm[c] = static_cast<T>((1 - o.momentum) * rm[c] + o.momentum * mu);
                rv[c] = static_cast<T>((1 - o.momentum) * rv[c] +
                                       o.momentum * q / static_cast<double>(M - 1));
              }
            } else {
              mu = rm[c];
              var = rv[c];
            }
            const double is = 1 / std::sqrt(var + o.eps);
            mean->data<T>()[c] = static_cast<T>(mu);
            invstd->data<T>()[c] = static_cast<T>(is);
            const T scale = static_cast<T>(is * (w ? w[c] : 1)),
                    shift = static_cast<T>((b ? b[c] : 0) - mu * is * (w ? w[c] : 1));
            for (std::int64_t n = 0; n < d.N; ++n) {
              const std::int64_t at = (n * d.C + c) * d.S;
              Eigen::Map<ArrayX<T>>(yv + at, d.S) =
                  Eigen::Map<const ArrayX<T>>(xv + at, d.S) * scale + shift;
            }
          }
        },
        M);
    if (o.training && rm) {  // changed in place: a graph that saved them must not use them
      mark_written(running_mean);
      mark_written(running_var);
    }
    std::vector<Tensor> inputs{x};
    if (weight.defined()) inputs.push_back(weight);
    if (bias.defined()) inputs.push_back(bias);
    const bool training = o.training, has_w = weight.defined(), has_b = bias.defined();
    // create_graph: x as (N, C, S); in training the statistics again in recorded ops (means
    // over N and S), in evaluation the running ones as constants; then the formulas above.
    auto graph = [d, mean, invstd, training, has_w, has_b, eps = o.eps](GraphCtx& c) {
      const Tensor x = reshape(c.in(0), {d.N, d.C, d.S});
      auto over_ns = [](const Tensor& t) {
        return tapegrad::mean(tapegrad::mean(t, 2, true), 0, true);
      };
      Tensor mu, is;
      if (training) {
        mu = over_ns(x);
        is = rsqrt(over_ns(square(x - mu)) + eps);
      } else {
        mu = reshape(Tensor(mean), {1, d.C, 1});
        is = reshape(Tensor(invstd), {1, d.C, 1});
      }
      const Tensor xhat = (x - mu) * is;
      const Tensor gy = reshape(c.grad_out(), {d.N, d.C, d.S});
      if (c.needs(0)) {
        const Tensor g = has_w ? gy * reshape(c.in(1), {1, d.C, 1}) : gy;
        const Tensor gx = training ? is * (g - over_ns(g) - xhat * over_ns(g * xhat)) : g * is;
        c.add(0, reshape(gx, c.in(0).shape()));
      }
      if (has_w && c.needs(1)) c.add(1, sum(sum(gy * xhat, 2), 0));
      const std::size_t b = has_w ? 2 : 1;
      if (has_b && c.needs(b)) c.add(b, sum(sum(gy, 2), 0));
    };
    return record(
        "batch_norm", std::move(y), inputs,
        WithGraph{[d, M, mean, invstd, training, has_w, has_b](BackwardCtx& c) {
                    TensorImpl* gx = c.grad_in(0);
                    TensorImpl* gw = has_w ? c.grad_in(1) : nullptr;
                    TensorImpl* gb = has_b ? c.grad_in(has_w ? 2 : 1) : nullptr;
                    const T* xv = c.in(0).data<T>();
                    const T* gy = c.grad_out().data<T>();
                    const T* w = has_w ? c.in(1).data<T>() : nullptr;
                    parallel_chunks(
                        d.C,
                        [&](std::int64_t c0, std::int64_t c1) {
                          for (std::int64_t ch = c0; ch < c1; ++ch) {
                            const double mu = mean->data<T>()[ch], is = invstd->data<T>()[ch];
                            double sg = 0, sgx = 0;  // sum(gy), sum(gy * xhat)
                            for (std::int64_t n = 0; n < d.N; ++n) {
                              const std::int64_t at = (n * d.C + ch) * d.S;
                              for (std::int64_t s = 0; s < d.S; ++s) {
                                sg += gy[at + s];
                                sgx += gy[at + s] * ((xv[at + s] - mu) * is);
                              }
                            }
                            if (gw) gw->data<T>()[ch] += static_cast<T>(sgx);
                            if (gb) gb->data<T>()[ch] += static_cast<T>(sg);
                            if (!gx) continue;
                            const double wc = w ? w[ch] : 1;
                            T* g = gx->data<T>();
                            for (std::int64_t n = 0; n < d.N; ++n) {
                              const std::int64_t at = (n * d.C + ch) * d.S;
                              for (std::int64_t s = 0; s < d.S; ++s) {
                                double v = gy[at + s];
                                if (training)
                                  v -= (sg + (xv[at + s] - mu) * is * sgx) / static_cast<double>(M);
                                g[at + s] += static_cast<T>(v * wc * is);
                              }
                            }
                          }
                        },
                        M);
                  },
                  std::move(graph)});
  });
}

}  // namespace tapegrad
