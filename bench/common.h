// Shared by the three implementations of the side-by-side benchmark (tapegrad, libtorch, plain
// Eigen): the workloads, the data (Fashion-MNIST train/test as float rows and int labels, read
// before timing starts), one batch order for all, and the result line the driver parses.
#pragma once
#include <sys/resource.h>
#include <tapegrad/data/idx.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace bench {

/// B1 small, B2 wide, B3 overhead, B4 convolutional (see bench/README.md).
struct Workload {
  std::string name;
  int threads;  // 0: "default", the library's own choice
};

inline Workload parse_args(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s B1|B2|B3|B4 THREADS|default\n", argv[0]);
    std::exit(2);
  }
  return {argv[1], std::string(argv[2]) == "default" ? 0 : std::max(1, std::atoi(argv[2]))};
}

struct Split {
  std::vector<float> x;  // n x 784, pixels / 255
  std::vector<std::int64_t> y;
  std::int64_t n = 0;
};

inline Split load(const std::string& dir, const std::string& prefix) {
  const auto images = tapegrad::data::read_idx(dir + "/" + prefix + "-images-idx3-ubyte.gz");
  const auto labels = tapegrad::data::read_idx(dir + "/" + prefix + "-labels-idx1-ubyte.gz");
  Split s;
  s.n = images.dims[0];
  s.x.resize(images.values.size());
  for (std::size_t i = 0; i < s.x.size(); ++i)
    s.x[i] = static_cast<float>(images.values[i]) / 255.0f;
  s.y.assign(labels.values.begin(), labels.values.end());
  return s;
}

inline std::string data_dir() {
  const char* d = std::getenv("TAPEGRAD_BENCH_DATA");
  return d ? d : "/usr/share/datasets/fashion-mnist";
}

/// The shuffled order every implementation uses (mt19937_64 seeded 1, std::shuffle).
inline std::vector<std::int64_t> batch_order(std::int64_t n) {
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(1);
  std::shuffle(order.begin(), order.end(), rng);
  return order;
}

/// One Linear layer's starting values: w (out x in, row-major) and b (out).
struct LayerInit {
  std::vector<float> w, b;
};

/// The starting parameters every implementation copies in, so their accuracies differ only by
/// rounding, not by luck of the draw: PyTorch's default init for Linear and Conv2d,
/// U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for w and b, from mt19937_64 seeded 0. Each layer is
/// (out, fan_in); w is out x fan_in row-major (torch's (out, in, kH, kW) for a convolution).
inline std::vector<LayerInit> initial_layers(const std::vector<std::pair<int, int>>& layers) {
  std::mt19937_64 rng(0);
  std::vector<LayerInit> r;
  for (const auto& [out, in] : layers) {
    std::uniform_real_distribution<float> u(-1 / std::sqrt(float(in)), 1 / std::sqrt(float(in)));
    LayerInit L;
    for (int i = 0; i < out * in; ++i) L.w.push_back(u(rng));
    for (int i = 0; i < out; ++i) L.b.push_back(u(rng));
    r.push_back(std::move(L));
  }
  return r;
}

/// An MLP's layers from its sizes (784, 128, 10: two Linear layers).
inline std::vector<LayerInit> initial_parameters(const std::vector<int>& sizes) {
  std::vector<std::pair<int, int>> layers;
  for (std::size_t l = 0; l + 1 < sizes.size(); ++l) layers.emplace_back(sizes[l + 1], sizes[l]);
  return initial_layers(layers);
}

/// B4, PyTorch's C++ MNIST example network: conv 1->10 k5, max-pool 2, relu, conv 10->20 k5,
/// dropout2d, max-pool 2, relu, linear 320->50, relu, dropout, linear 50->10, log_softmax + nll;
/// SGD lr 0.01 momentum 0.5, batch 64, one epoch.
inline std::vector<LayerInit> b4_initial() {
  return initial_layers({{10, 25}, {20, 250}, {50, 320}, {10, 50}});
}
/// Test accuracy is measured in batches of this many (a whole-set batch would unfold 10,000
/// images at once: memory, not speed, would decide).
inline constexpr std::int64_t kEvalBatch = 1000;

/// B3's data: 20,000 samples x in U(-1, 1)^2, y = sin(x0) + x1^2 / 2.
inline void b3_data(std::vector<float>& x, std::vector<float>& y) {
  std::mt19937_64 rng(2);
  std::uniform_real_distribution<float> u(-1, 1);
  for (int i = 0; i < 20000; ++i) {
    const float a = u(rng), b = u(rng);
    x.push_back(a);
    x.push_back(b);
    y.push_back(std::sin(a) + b * b / 2);
  }
}

inline double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

inline double peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;
}

/// The one line the driver reads.
inline void report(double seconds, double accuracy) {
  std::printf("RESULT seconds=%.6f accuracy=%.4f rss_mib=%.1f\n", seconds, accuracy,
              peak_rss_mib());
}

}  // namespace bench
