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

/// B1 small, B2 wide, B3 overhead, B4 convolutional, B5 sequence (see bench/README.md).
struct Workload {
  std::string name;
  int threads;  // 0: "default", the library's own choice
};

inline Workload parse_args(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s B1|B2|B3|B4|B5|B6|HVP|PINN THREADS|default\n", argv[0]);
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

/// B5, a character-level LSTM language model: Embedding(V, 64) - LSTM(64, 256, 2 layers) -
/// Linear(256, V) on every step's output, cross-entropy against the next character, Adam lr 2e-3,
/// batches of 32 windows of 64 characters in a shuffled order, one pass over 1 MiB of text.
inline constexpr int kB5Embed = 64, kB5Hidden = 256, kB5Layers = 2, kB5Seq = 64, kB5Batch = 32;

/// B5's text: the first 1 MiB of the Brown corpus's training text (scripts/get_data.sh makes
/// data/brown/train.txt; TAPEGRAD_BENCH_TEXT names another file) as indices into its
/// vocabulary, the sorted distinct bytes.
struct Text {
  std::vector<std::int64_t> ids;
  int vocab = 0;
};
/// Where B5's text is read from: $TAPEGRAD_BENCH_TEXT, else data/brown/train.txt.
inline std::string b5_text_path() {
  const char* env = std::getenv("TAPEGRAD_BENCH_TEXT");
  return env ? env : "data/brown/train.txt";
}

inline Text b5_text() {
  const std::string path = b5_text_path();
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) {
    std::fprintf(stderr, "B5: cannot read %s (scripts/get_data.sh makes it)\n", path.c_str());
    std::exit(1);
  }
  std::vector<unsigned char> bytes(1 << 20);
  bytes.resize(std::fread(bytes.data(), 1, bytes.size(), f));
  std::fclose(f);
  std::vector<int> index(256, -1);
  for (unsigned char c : bytes) index[c] = 0;
  Text t;
  for (int& i : index)
    if (i == 0) i = t.vocab++;
  for (unsigned char c : bytes) t.ids.push_back(index[c]);
  return t;
}

/// B5's starting parameters in torch's order: the embedding (V x 64, N(0, 1)), each layer's
/// weight_ih, weight_hh, bias_ih, bias_hh (U(-1/16, 1/16)), the output layer's w and b
/// (U(-1/16, 1/16)); from mt19937_64 seeded 0.
inline std::vector<std::vector<float>> b5_initial(int vocab) {
  std::mt19937_64 rng(0);
  std::normal_distribution<float> n(0, 1);
  std::uniform_real_distribution<float> u(-1.0f / 16, 1.0f / 16);
  std::vector<std::vector<float>> r;
  auto draw = [&](std::size_t size, auto& dist) {
    std::vector<float> v(size);
    for (float& x : v) x = dist(rng);
    r.push_back(std::move(v));
  };
  draw(std::size_t(vocab) * kB5Embed, n);
  const std::size_t gates = 4 * kB5Hidden;
  for (int l = 0; l < kB5Layers; ++l) {
    draw(gates * (l == 0 ? kB5Embed : kB5Hidden), u);
    draw(gates * kB5Hidden, u);
    draw(gates, u);
    draw(gates, u);
  }
  draw(std::size_t(vocab) * kB5Hidden, u);
  draw(std::size_t(vocab), u);
  return r;
}

/// B5's steps: every window of 65 characters starting at a multiple of 64 (inputs the first 64,
/// targets the last 64), in batch_order; TAPEGRAD_BENCH_STEPS caps the count (a quick check).
inline std::int64_t b5_steps(const Text& t) {
  const std::int64_t all = (static_cast<std::int64_t>(t.ids.size()) - 1) / kB5Seq / kB5Batch;
  const char* cap = std::getenv("TAPEGRAD_BENCH_STEPS");
  return cap ? std::min<std::int64_t>(all, std::max(1, std::atoi(cap))) : all;
}

/// B6, a small GPT-style character model: token and position embeddings (128) - a
/// TransformerEncoder of 4 post-norm layers (4 heads, feed-forward 512, gelu, dropout 0) under a
/// causal mask - LayerNorm - Linear(128, V), cross-entropy on every position, Adam lr 1e-3,
/// batches of 32 windows of 128 characters, one pass over B5's text. Time first, post-norm:
/// what libtorch 1.13's C++ TransformerEncoderLayer offers.
inline constexpr int kB6Dim = 128, kB6Heads = 4, kB6Layers = 4, kB6Ff = 512, kB6Seq = 128,
                     kB6Batch = 32;

/// A B6 parameter's starting values, from its name alone (both libraries name them as torch
/// does, in different orders): LayerNorm weights 1 and biases 0, embeddings N(0, 0.02^2),
/// other matrices U(+-1/sqrt(columns)), other vectors U(+-0.02); each from mt19937_64 seeded
/// with the name's FNV-1a hash.
inline std::vector<float> b6_value(const std::string& name,
                                   const std::vector<std::int64_t>& shape) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : name) h = (h ^ c) * 1099511628211ull;
  std::mt19937_64 rng(h);
  std::int64_t n = 1;
  for (std::int64_t d : shape) n *= d;
  std::vector<float> v(static_cast<std::size_t>(n));
  const bool norm = name.find("norm") != std::string::npos;
  const bool weight = name.size() >= 6 && name.compare(name.size() - 6, 6, "weight") == 0;
  if (norm) {
    std::fill(v.begin(), v.end(), weight ? 1.0f : 0.0f);
  } else if (name.rfind("tok.", 0) == 0 || name.rfind("pos.", 0) == 0) {
    std::normal_distribution<float> d(0, 0.02f);
    for (float& x : v) x = d(rng);
  } else {
    const float b = shape.size() == 2 ? 1 / std::sqrt(static_cast<float>(shape[1])) : 0.02f;
    std::uniform_real_distribution<float> d(-b, b);
    for (float& x : v) x = d(rng);
  }
  return v;
}

/// B6's steps: every window of 129 characters starting at a multiple of 128, in batch_order;
/// TAPEGRAD_BENCH_STEPS caps the count.
inline std::int64_t b6_steps(const Text& t) {
  const std::int64_t all = (static_cast<std::int64_t>(t.ids.size()) - 1) / kB6Seq / kB6Batch;
  const char* cap = std::getenv("TAPEGRAD_BENCH_STEPS");
  return cap ? std::min<std::int64_t>(all, std::max(1, std::atoi(cap))) : all;
}

/// Batch k's inputs and targets for windows of `seq` characters, time first (seq x batch).
inline void text_batch(const Text& t, const std::vector<std::int64_t>& order, std::int64_t k,
                       int seq, int batch, std::vector<std::int64_t>& x,
                       std::vector<std::int64_t>& y) {
  x.resize(static_cast<std::size_t>(seq) * batch);
  y.resize(x.size());
  for (int b = 0; b < batch; ++b) {
    const std::int64_t start = order[k * batch + b] * seq;
    for (int s = 0; s < seq; ++s) {
      x[s * batch + b] = t.ids[start + s];
      y[s * batch + b] = t.ids[start + s + 1];
    }
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

/// The mean loss of a pass's last 32 steps (B5's and B6's figure), fed step by step.
struct TailMean {
  std::int64_t steps;
  double mean = 0;
  void add(std::int64_t k, double loss) {
    if (k >= steps - 32) mean += loss / static_cast<double>(std::min<std::int64_t>(32, steps));
  }
};

/// B5's and B6's result line: its figure is the mean loss of the last 32 steps, not an
/// accuracy.
inline void report_loss(double seconds, double loss) {
  std::printf("RESULT seconds=%.6f loss=%.4f rss_mib=%.1f\n", seconds, loss, peak_rss_mib());
}

/// HVP's batch: 64 inputs of B1's network (784 values from a fixed formula, so that both
/// libraries see the same numbers without a data file) and their labels.
inline void hvp_batch(std::vector<float>& x, std::vector<std::int64_t>& y) {
  x.resize(64 * 784);
  y.resize(64);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::sin(0.37f * static_cast<float>(i));
  for (std::size_t i = 0; i < y.size(); ++i) y[i] = static_cast<std::int64_t>(i * 7 % 10);
}

/// Microseconds per call of f: the median of 5 rounds of `iters` calls, after a warm-up.
template <typename F>
double us_per_call(F f, int iters = 200) {
  for (int i = 0; i < 20; ++i) f();
  std::vector<double> rounds;
  for (int r = 0; r < 5; ++r) {
    const double t0 = now();
    for (int i = 0; i < iters; ++i) f();
    rounds.push_back((now() - t0) / iters * 1e6);
  }
  std::sort(rounds.begin(), rounds.end());
  return rounds[2];
}

/// PINN's collocation points: 64 evenly over [0, 1], and the two ends.
inline std::vector<double> pinn_points(std::int64_t n) {
  std::vector<double> v;
  for (std::int64_t i = 0; i < n; ++i)
    v.push_back(static_cast<double>(i) / static_cast<double>(n - 1));
  return v;
}
/// PINN: examples/pinn.cpp's network (1-32-32-1, tanh, float64, from initial_parameters) and
/// loss, this many Adam steps (lr 1e-3); its figure is the last step's loss.
inline constexpr int kPinnSteps = 500;

/// HVP's result line: a first-order gradient of B1's loss (forward included), a
/// Hessian-vector product of it (forward, a create_graph gradient, a second gradient), and
/// their ratio.
inline void report_hvp(double first_us, double hvp_us) {
  std::printf("RESULT first_us=%.1f hvp_us=%.1f hvp_over_first=%.2f\n", first_us, hvp_us,
              hvp_us / first_us);
}

}  // namespace bench
