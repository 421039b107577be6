// The practical limit: the same networks written by hand in Eigen, with every buffer allocated
// once, a hand-derived backward, and the same update rules (SGD with momentum as PyTorch, Adam).
#include <Eigen/Core>
#include <cmath>

#include "common.h"
#include "eigen_cnn.h"

namespace {
using Mat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Row = Eigen::RowVectorXf;
enum class Act { Sigmoid, ReLU, Tanh };

struct Layer {
  Mat W, gW, mW, vW;  // (out x in); m, v: momentum or Adam moments
  Row b, gb, mb, vb;
  Mat A;  // this layer's output (B x out), after the activation
};

struct MLP {
  std::vector<Layer> layers;
  Act act;
  MLP(const std::vector<int>& sizes, Act a, std::int64_t batch) : act(a) {
    const auto init = bench::initial_parameters(sizes);
    for (std::size_t l = 0; l + 1 < sizes.size(); ++l) {
      const int in = sizes[l], out = sizes[l + 1];
      Layer L;
      L.W = Eigen::Map<const Mat>(init[l].w.data(), out, in);
      L.b = Eigen::Map<const Row>(init[l].b.data(), out);
      L.gW = L.mW = L.vW = Mat::Zero(out, in);
      L.gb = L.mb = L.vb = Row::Zero(out);
      L.A.resize(batch, out);
      layers.push_back(std::move(L));
    }
  }
  // Z = A_prev W^T + b, then the activation in place (none on the last layer).
  const Mat& forward(const Eigen::Ref<const Mat>& X) {
    for (std::size_t l = 0; l < layers.size(); ++l) {
      Layer& L = layers[l];
      const Eigen::Ref<const Mat> in = l == 0 ? X : Eigen::Ref<const Mat>(layers[l - 1].A);
      L.A.noalias() = in * L.W.transpose();
      L.A.rowwise() += L.b;
      if (l + 1 == layers.size()) break;
      if (act == Act::Sigmoid)
        L.A = (1 + (-L.A.array()).exp()).inverse().matrix();
      else if (act == Act::ReLU)
        L.A = L.A.cwiseMax(0.0f);
      else
        L.A = L.A.array().tanh().matrix();
    }
    return layers.back().A;
  }
  // dZ is the gradient at the last layer's pre-activation output; overwritten as it goes down.
  void backward(const Eigen::Ref<const Mat>& X, Mat& dZ, Mat& dA) {
    for (std::size_t l = layers.size(); l-- > 0;) {
      Layer& L = layers[l];
      const Eigen::Ref<const Mat> in = l == 0 ? X : Eigen::Ref<const Mat>(layers[l - 1].A);
      L.gW.noalias() = dZ.transpose() * in;
      L.gb = dZ.colwise().sum();
      if (l == 0) break;
      dA.resize(dZ.rows(), L.W.cols());
      dA.noalias() = dZ * L.W;
      const Mat& H = layers[l - 1].A;
      if (act == Act::Sigmoid)
        dA.array() *= H.array() * (1 - H.array());
      else if (act == Act::ReLU)
        dA.array() *= (H.array() > 0).cast<float>();
      else
        dA.array() *= 1 - H.array().square();
      std::swap(dZ, dA);
    }
  }
  void sgd(float lr, float mu, bool first) {
    for (Layer& L : layers) {
      if (mu == 0) {
        L.W -= lr * L.gW;
        L.b -= lr * L.gb;
        continue;
      }
      if (first) {
        L.mW = L.gW;
        L.mb = L.gb;
      } else {
        L.mW = mu * L.mW + L.gW;
        L.mb = mu * L.mb + L.gb;
      }
      L.W -= lr * L.mW;
      L.b -= lr * L.mb;
    }
  }
  void adam(float lr, int t) {
    const float b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
    const float bc1 = 1 - std::pow(b1, float(t)), bc2s = std::sqrt(1 - std::pow(b2, float(t)));
    for (Layer& L : layers) {
      L.mW = b1 * L.mW + (1 - b1) * L.gW;
      L.vW.array() = b2 * L.vW.array() + (1 - b2) * L.gW.array().square();
      L.W.array() -= (lr / bc1) * L.mW.array() / (L.vW.array().sqrt() / bc2s + eps);
      L.mb = b1 * L.mb + (1 - b1) * L.gb;
      L.vb.array() = b2 * L.vb.array() + (1 - b2) * L.gb.array().square();
      L.b.array() -= (lr / bc1) * L.mb.array() / (L.vb.array().sqrt() / bc2s + eps);
    }
  }
};

void mnist(MLP& net, std::int64_t batch, bool adam) {
  const bench::Split train = bench::load(bench::data_dir(), "train");
  const bench::Split test = bench::load(bench::data_dir(), "t10k");
  const auto order = bench::batch_order(train.n);
  Eigen::Map<const Mat> X(train.x.data(), train.n, 784);
  Mat xb(batch, 784), dZ(batch, 10), dA;
  const double t0 = bench::now();
  int t = 0;
  for (std::int64_t b = 0; b + batch <= train.n; b += batch) {
    for (std::int64_t i = 0; i < batch; ++i) xb.row(i) = X.row(order[b + i]);
    const Mat& logits = net.forward(xb);
    // Cross-entropy backward: (softmax - onehot) / B, each row shifted by its max.
    dZ = (logits.colwise() - logits.rowwise().maxCoeff()).array().exp().matrix();
    dZ.array().colwise() /= dZ.rowwise().sum().array();
    for (std::int64_t i = 0; i < batch; ++i) dZ(i, train.y[order[b + i]]) -= 1;
    dZ /= float(batch);
    net.backward(xb, dZ, dA);
    if (adam)
      net.adam(1e-3f, ++t);
    else
      net.sgd(0.1f, 0.9f, t++ == 0);
  }
  const double secs = bench::now() - t0;
  MLP& m = net;
  Eigen::Map<const Mat> XT(test.x.data(), test.n, 784);
  std::int64_t correct = 0;
  for (std::int64_t b = 0; b + batch <= test.n; b += batch) {
    const Mat& out = m.forward(XT.middleRows(b, batch));
    for (std::int64_t i = 0; i < batch; ++i) {
      Eigen::Index k;
      out.row(i).maxCoeff(&k);
      correct += k == test.y[b + i];
    }
  }
  bench::report(secs, double(correct) / double(test.n / batch * batch));
}
}  // namespace

int main(int argc, char** argv) {
  const bench::Workload w = bench::parse_args(argc, argv);
  if (w.threads > 0) Eigen::setNbThreads(w.threads);
  if (w.name == "B1") {
    MLP net({784, 128, 10}, Act::Sigmoid, 64);
    mnist(net, 64, false);
  } else if (w.name == "B2") {
    MLP net({784, 1024, 1024, 10}, Act::ReLU, 256);
    mnist(net, 256, true);
  } else if (w.name == "B4") {
    bench::b4_eigen();
  } else {
    std::vector<float> xs, ys;
    bench::b3_data(xs, ys);
    MLP net({2, 8, 1}, Act::Tanh, 1);
    Mat dZ(1, 1), dA;
    const double t0 = bench::now();
    for (int i = 0; i < 20000; ++i) {
      Eigen::Map<const Mat> x(xs.data() + 2 * i, 1, 2);
      const Mat& out = net.forward(x);
      dZ(0, 0) = 2 * (out(0, 0) - ys[i]);  // d/dout of (out - y)^2
      net.backward(x, dZ, dA);
      net.sgd(0.1f, 0, false);
    }
    bench::report(bench::now() - t0, 0);
  }
}
