// What the dist tests share: a small classification set, a small MLP, the parameters as one
// vector, and the relative error the equivalence checks measure.
#pragma once
#include "../core/helpers.h"

namespace dist = tg::dist;
namespace nn = tg::nn;
namespace data = tg::data;

inline data::TensorDataset global_data(tg::Dtype d) {
  tg::Generator gen(21);
  tg::Tensor x = tg::randn({64, 5}, {.dtype = d}, &gen);
  std::vector<std::int64_t> y(64);
  for (std::size_t i = 0; i < y.size(); ++i) y[i] = static_cast<std::int64_t>((i * 5 + i / 7) % 3);
  return {x, tg::from_vector(y, {64})};
}

inline std::shared_ptr<nn::Sequential> make_net(std::uint64_t seed, tg::Dtype d) {
  tg::Generator gen(seed);
  auto m = std::make_shared<nn::Sequential>(nn::Linear(5, 16, true, &gen), nn::Tanh(),
                                            nn::Linear(16, 16, true, &gen), nn::ReLU(),
                                            nn::Linear(16, 3, true, &gen));
  m->to(d);
  return m;
}

inline std::vector<double> flat(const nn::Module& m) {
  std::vector<double> r;
  for (const tg::Tensor& p : m.parameters())
    for (double v : p.to(tg::kFloat64).to_vector<double>()) r.push_back(v);
  return r;
}

// float64: the largest elementwise |a - b| / |b| (|b| below 1e-3 counts as 1e-3); float32,
// whose sums in another order drift by an ulp a step: ||a - b|| / ||b||.
inline double relative_error(const std::vector<double>& a, const std::vector<double>& b,
                             bool elementwise) {
  double worst = 0, diff = 0, norm = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    worst = std::max(worst, std::abs(a[i] - b[i]) / std::max(1e-3, std::abs(b[i])));
    diff += (a[i] - b[i]) * (a[i] - b[i]);
    norm += b[i] * b[i];
  }
  return elementwise ? worst : std::sqrt(diff / norm);
}
