// B4 written by hand: PyTorch's MNIST example network in Eigen, activations kept NHWC as
// (B * H * W, C) row-major matrices so that each convolution is one im2col and one GEMM, every
// buffer allocated once, a hand-derived backward, SGD with momentum as PyTorch's.
#pragma once
#include <Eigen/Core>
#include <random>
#include <vector>

#include "common.h"

namespace bench {

using MatF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// Columns (c, ky, kx) as torch's weight (out, in, kH, kW); rows (b, y, x) of the output.
inline void im2col(const float* a, int B, int H, int W, int C, int k, MatF& col) {
  const int Ho = H - k + 1, Wo = W - k + 1;
  col.resize(static_cast<Eigen::Index>(B) * Ho * Wo, C * k * k);
  for (int b = 0; b < B; ++b)
    for (int y = 0; y < Ho; ++y)
      for (int x = 0; x < Wo; ++x) {
        float* row = col.row((static_cast<Eigen::Index>(b) * Ho + y) * Wo + x).data();
        for (int c = 0; c < C; ++c)
          for (int ky = 0; ky < k; ++ky)
            for (int kx = 0; kx < k; ++kx)
              row[(c * k + ky) * k + kx] =
                  a[((static_cast<std::int64_t>(b) * H + y + ky) * W + x + kx) * C + c];
      }
}

/// The adjoint of im2col: every column entry added back where it was read from.
inline void col2im(const MatF& dcol, int B, int H, int W, int C, int k, MatF& da) {
  const int Ho = H - k + 1, Wo = W - k + 1;
  da.setZero(static_cast<Eigen::Index>(B) * H * W, C);
  for (int b = 0; b < B; ++b)
    for (int y = 0; y < Ho; ++y)
      for (int x = 0; x < Wo; ++x) {
        const float* row = dcol.row((static_cast<Eigen::Index>(b) * Ho + y) * Wo + x).data();
        for (int c = 0; c < C; ++c)
          for (int ky = 0; ky < k; ++ky)
            for (int kx = 0; kx < k; ++kx)
              da((static_cast<Eigen::Index>(b) * H + y + ky) * W + x + kx, c) +=
                  row[(c * k + ky) * k + kx];
      }
}

/// 2x2 max-pool with stride 2 then relu; idx holds each output's flat source in z.
inline void pool_relu(const MatF& z, int B, int H, int W, MatF& p, std::vector<int>& idx) {
  const int C = static_cast<int>(z.cols()), Ho = H / 2, Wo = W / 2;
  p.resize(static_cast<Eigen::Index>(B) * Ho * Wo, C);
  idx.resize(static_cast<std::size_t>(p.size()));
  for (int b = 0; b < B; ++b)
    for (int y = 0; y < Ho; ++y)
      for (int x = 0; x < Wo; ++x) {
        const Eigen::Index o = (static_cast<Eigen::Index>(b) * Ho + y) * Wo + x;
        for (int c = 0; c < C; ++c) {
          int best = -1;
          float v = 0;
          for (int dy = 0; dy < 2; ++dy)
            for (int dx = 0; dx < 2; ++dx) {
              const int i = static_cast<int>(
                  ((static_cast<Eigen::Index>(b) * H + 2 * y + dy) * W + 2 * x + dx) * C + c);
              if (best < 0 || z.data()[i] > v) best = i, v = z.data()[i];
            }
          p(o, c) = v > 0 ? v : 0;
          idx[static_cast<std::size_t>(o * C + c)] = best;
        }
      }
}

/// The gradient through relu and the pool: dp where the output was positive, to its source.
inline void pool_relu_backward(const MatF& dp, const MatF& p, const std::vector<int>& idx,
                               Eigen::Index z_rows, MatF& dz) {
  dz.setZero(z_rows, dp.cols());
  for (Eigen::Index i = 0; i < dp.size(); ++i)
    if (p.data()[i] > 0) dz.data()[idx[static_cast<std::size_t>(i)]] += dp.data()[i];
}

struct CNN {
  MatF W[4], gW[4], mW[4];  // conv1 (10, 25), conv2 (20, 250), fc1 (50, 320), fc2 (10, 50)
  Eigen::RowVectorXf b[4], gb[4], mb[4];
  MatF col1, z1, a1, col2, z2, a2, f, h3, a3, z4;  // forward
  MatF m2, m3;                                     // dropout masks, 0 or 2
  std::vector<int> idx1, idx2;
  MatF dz4, da3, df, dp2, dz2, dcol2, da1, dz1;  // backward
  std::mt19937 rng{0};
  int B = 0;
  bool first_step = true;

  CNN() {
    const auto init = b4_initial();
    const int out[4] = {10, 20, 50, 10}, in[4] = {25, 250, 320, 50};
    for (int l = 0; l < 4; ++l) {
      W[l] = Eigen::Map<const MatF>(init[l].w.data(), out[l], in[l]);
      b[l] = Eigen::Map<const Eigen::RowVectorXf>(init[l].b.data(), out[l]);
      gW[l] = mW[l] = MatF::Zero(out[l], in[l]);
      gb[l] = mb[l] = Eigen::RowVectorXf::Zero(out[l]);
    }
  }

  /// Log-probabilities (B, 10) of x (B, 784); dropout when training.
  const MatF& forward(const float* x, int batch, bool training) {
    B = batch;
    im2col(x, B, 28, 28, 1, 5, col1);
    z1.noalias() = col1 * W[0].transpose();
    z1.rowwise() += b[0];
    pool_relu(z1, B, 24, 24, a1, idx1);
    im2col(a1.data(), B, 12, 12, 10, 5, col2);
    z2.noalias() = col2 * W[1].transpose();
    z2.rowwise() += b[1];
    if (training) {  // dropout2d: one draw per (sample, channel)
      std::bernoulli_distribution keep(0.5);
      m2.resize(B, 20);
      for (Eigen::Index i = 0; i < m2.size(); ++i) m2.data()[i] = keep(rng) ? 2.0f : 0.0f;
      for (int s = 0; s < B; ++s)
        z2.middleRows(static_cast<Eigen::Index>(s) * 64, 64).array().rowwise() *= m2.row(s).array();
    }
    pool_relu(z2, B, 8, 8, a2, idx2);
    f.resize(B, 320);  // torch's flatten order: (c, y, x)
    for (int s = 0; s < B; ++s)
      for (int p = 0; p < 16; ++p)
        for (int c = 0; c < 20; ++c)
          f(s, c * 16 + p) = a2(static_cast<Eigen::Index>(s) * 16 + p, c);
    h3.noalias() = f * W[2].transpose();
    h3.rowwise() += b[2];
    h3 = h3.cwiseMax(0.0f);
    a3 = h3;
    if (training) {
      std::bernoulli_distribution keep(0.5);
      m3.resize(B, 50);
      for (Eigen::Index i = 0; i < m3.size(); ++i) m3.data()[i] = keep(rng) ? 2.0f : 0.0f;
      a3.array() *= m3.array();
    }
    z4.noalias() = a3 * W[3].transpose();
    z4.rowwise() += b[3];
    const Eigen::VectorXf mx = z4.rowwise().maxCoeff();
    z4.colwise() -= mx;
    const Eigen::VectorXf lse = z4.array().exp().rowwise().sum().log();
    z4.colwise() -= lse;
    return z4;
  }

  /// Gradients of the mean nll at labels y (B), after forward(training = true).
  void backward(const std::int64_t* y) {
    dz4 = z4.array().exp().matrix();  // softmax - onehot, / B
    for (int s = 0; s < B; ++s) dz4(s, y[s]) -= 1;
    dz4 /= static_cast<float>(B);
    gW[3].noalias() = dz4.transpose() * a3;
    gb[3] = dz4.colwise().sum();
    da3.noalias() = dz4 * W[3];
    da3.array() *= m3.array() * (h3.array() > 0).cast<float>();
    gW[2].noalias() = da3.transpose() * f;
    gb[2] = da3.colwise().sum();
    df.noalias() = da3 * W[2];
    dp2.resize(static_cast<Eigen::Index>(B) * 16, 20);
    for (int s = 0; s < B; ++s)
      for (int p = 0; p < 16; ++p)
        for (int c = 0; c < 20; ++c)
          dp2(static_cast<Eigen::Index>(s) * 16 + p, c) = df(s, c * 16 + p);
    pool_relu_backward(dp2, a2, idx2, z2.rows(), dz2);
    for (int s = 0; s < B; ++s)
      dz2.middleRows(static_cast<Eigen::Index>(s) * 64, 64).array().rowwise() *= m2.row(s).array();
    gW[1].noalias() = dz2.transpose() * col2;
    gb[1] = dz2.colwise().sum();
    dcol2.noalias() = dz2 * W[1];
    col2im(dcol2, B, 12, 12, 10, 5, da1);
    pool_relu_backward(da1, a1, idx1, z1.rows(), dz1);
    gW[0].noalias() = dz1.transpose() * col1;
    gb[0] = dz1.colwise().sum();
  }

  void sgd(float lr, float mu) {
    for (int l = 0; l < 4; ++l) {
      if (first_step) {
        mW[l] = gW[l];
        mb[l] = gb[l];
      } else {
        mW[l] = mu * mW[l] + gW[l];
        mb[l] = mu * mb[l] + gb[l];
      }
      W[l] -= lr * mW[l];
      b[l] -= lr * mb[l];
    }
    first_step = false;
  }
};

/// One epoch of B4 and the test accuracy, reported.
inline void b4_eigen() {
  const Split train = load(data_dir(), "train");
  const Split test = load(data_dir(), "t10k");
  const auto order = batch_order(train.n);
  constexpr int kBatch = 64;
  CNN net;
  std::vector<float> xb(kBatch * 784);
  std::vector<std::int64_t> yb(kBatch);
  const double t0 = now();
  for (std::int64_t s = 0; s + kBatch <= train.n; s += kBatch) {
    for (int i = 0; i < kBatch; ++i) {
      const std::int64_t r = order[static_cast<std::size_t>(s + i)];
      std::copy_n(train.x.data() + r * 784, 784, xb.data() + i * 784);
      yb[static_cast<std::size_t>(i)] = train.y[static_cast<std::size_t>(r)];
    }
    net.forward(xb.data(), kBatch, true);
    net.backward(yb.data());
    net.sgd(0.01f, 0.5f);
  }
  const double secs = now() - t0;
  std::int64_t correct = 0;
  for (std::int64_t s = 0; s < test.n; s += kEvalBatch) {
    const int n = static_cast<int>(std::min(kEvalBatch, test.n - s));
    const MatF& out = net.forward(test.x.data() + s * 784, n, false);
    for (int i = 0; i < n; ++i) {
      Eigen::Index k;
      out.row(i).maxCoeff(&k);
      correct += k == test.y[static_cast<std::size_t>(s + i)];
    }
  }
  report(secs, static_cast<double>(correct) / static_cast<double>(test.n));
}

}  // namespace bench
