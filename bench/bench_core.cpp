// Core micro-benchmarks: the per-op overhead of the tape, and matmul forward + backward against
// plain Eigen doing the same three products. Prints one line per measurement; ratios come from
// the same run, interleaved (A B A B ...), medians of the repetitions.
#include <omp.h>

#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <tapegrad/tapegrad.hpp>
#include <thread>

#include "common.h"
#include "hogwild_update.h"    // train's element updates, timed against a plain loop
#include "runtime/cpu_load.h"  // core's reading of /proc/stat: how busy the other processes kept us

#ifdef TAPEGRAD_BENCH_SGEMM
// OpenBLAS's own entry points (Debian's OpenMP build, the one core links): the reference rate.
extern "C" {
void sgemm_(const char* ta, const char* tb, const int* m, const int* n, const int* k,
            const float* alpha, const float* a, const int* lda, const float* b, const int* ldb,
            const float* beta, float* c, const int* ldc);
void openblas_set_num_threads(int n);
}
#endif

namespace tg = tapegrad;
using Clock = std::chrono::steady_clock;
using MatrixRM = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

namespace {
double seconds(const std::function<void()>& f) {
  const auto t0 = Clock::now();
  f();
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Nanoseconds per recorded op, forward and backward: a chain of 10 scalar ops, one backward.
void bench_overhead() {
  tg::Tensor x = tg::ones({1}, {.requires_grad = true});
  tg::Tensor w = tg::ones({1}, {.requires_grad = true});
  constexpr int kIters = 100000, kChain = 10;
  auto scalar_chain = [&] {
    for (int i = 0; i < kIters; ++i) {
      tg::Tensor h = x;
      for (int k = 0; k < kChain; ++k) h = h * 1.0001;
      h.backward();
    }
  };
  auto tensor_chain = [&] {
    for (int i = 0; i < kIters; ++i) {
      tg::Tensor h = x;
      for (int k = 0; k < kChain; ++k) h = h * w;
      h.backward();
    }
  };
  std::vector<double> a, b;
  for (int r = 0; r < 5; ++r) {
    a.push_back(seconds(scalar_chain));
    b.push_back(seconds(tensor_chain));
  }
  std::printf("BENCH overhead op=affine ns_per_op=%.0f\n", median(a) / (kIters * kChain) * 1e9);
  std::printf("BENCH overhead op=mul ns_per_op=%.0f\n", median(b) / (kIters * kChain) * 1e9);
}

// y = a b, then ga = g b^T and gb = a^T g: three GEMMs of 2 n k m flops each.
void bench_matmul(int n, int k, int m, int threads) {
  tg::set_num_threads(threads);
  tg::Generator gen(1);
  tg::Tensor a = tg::randn({n, k}, {.requires_grad = true}, &gen);
  tg::Tensor b = tg::randn({k, m}, {.requires_grad = true}, &gen);
  tg::Tensor g = tg::randn({n, m}, {}, &gen);
  MatrixRM ea = Eigen::Map<MatrixRM>(a.data<float>(), n, k);
  MatrixRM eb = Eigen::Map<MatrixRM>(b.data<float>(), k, m);
  MatrixRM eg = Eigen::Map<MatrixRM>(g.data<float>(), n, m);
  MatrixRM ey(n, m), ega(n, k), egb(k, m);
  const double flops = 3.0 * 2.0 * n * k * m;
  const int iters = std::max(3, static_cast<int>(2e9 / flops));
  auto ours = [&] {
    for (int i = 0; i < iters; ++i) {
      tg::matmul(a, b).backward(g);
      a.zero_grad();
      b.zero_grad();
    }
  };
  auto eigen = [&] {
    for (int i = 0; i < iters; ++i) {
      ey.noalias() = ea * eb;
      ega.noalias() = eg * eb.transpose();
      egb.noalias() = ea.transpose() * eg;
    }
  };
  ours();  // warm up: first-touch allocations and thread start
  eigen();
  std::vector<double> t_ours, t_eigen;
  for (int r = 0; r < 5; ++r) {
    t_ours.push_back(seconds(ours) / iters);
    t_eigen.push_back(seconds(eigen) / iters);
  }
  const double o = median(t_ours), e = median(t_eigen);
  std::printf(
      "BENCH matmul_fwd_bwd shape=(%dx%d)x(%dx%d) threads=%d tapegrad_gflops=%.1f "
      "eigen_gflops=%.1f tapegrad_over_eigen=%.3f\n",
      n, k, k, m, threads, flops / o * 1e-9, flops / e * 1e-9, o / e);
}

// Attention's scores q k^T, forward and backward, for a batch of heads: k read transposed by
// the GEMM ({.transpose_b = true}) against k transposed by a copy first (what
// matmul(q, transpose(k, -2, -1)) costs).
void bench_matmul_t(int heads, int len, int dim, int threads) {
  tg::set_num_threads(threads);
  tg::Generator gen(2);
  tg::Tensor q = tg::randn({heads, len, dim}, {.requires_grad = true}, &gen);
  tg::Tensor k = tg::randn({heads, len, dim}, {.requires_grad = true}, &gen);
  tg::Tensor g = tg::randn({heads, len, len}, {}, &gen);
  const double flops = 3.0 * 2.0 * heads * len * len * dim;
  const int iters = std::max(3, static_cast<int>(1e9 / flops));
  auto run = [&](bool flag) {
    return [&, flag] {
      for (int i = 0; i < iters; ++i) {
        (flag ? tg::matmul(q, k, {.transpose_b = true}) : tg::matmul(q, tg::transpose(k, -2, -1)))
            .backward(g);
        q.zero_grad();
        k.zero_grad();
      }
    };
  };
  auto flag = run(true), copy = run(false);
  flag();  // warm up
  copy();
  std::vector<double> t_flag, t_copy;
  for (int r = 0; r < 5; ++r) {
    t_flag.push_back(seconds(flag) / iters);
    t_copy.push_back(seconds(copy) / iters);
  }
  const double f = median(t_flag), c = median(t_copy);
  std::printf(
      "BENCH matmul_qkT shape=(%dx%dx%d) threads=%d flag_gflops=%.1f copy_gflops=%.1f "
      "flag_over_copy=%.3f\n",
      heads, len, dim, threads, flops / f * 1e-9, flops / c * 1e-9, f / c);
}

#ifdef TAPEGRAD_BENCH_SGEMM
// A row-major product C (m x n) = op(A) op(B) with inner size k, as one OpenBLAS call:
// column-major C^T = op(B)^T op(A)^T.
struct Product {
  int m, n, k;
  bool ta, tb;  // A stored k x m, B stored n x k
  /// How many such products a step makes, and whether they are independent (attention's per
  /// head, spread over the threads) or each waits for the one before (a recurrent step's).
  int count = 1;
  bool independent = false;
};

double sgemm_seconds_at(const Product& p, int threads) {
  openblas_set_num_threads(threads);
  std::vector<float> a(static_cast<std::size_t>(p.m) * p.k, 0.5f),
      b(static_cast<std::size_t>(p.k) * p.n, 0.25f), c(static_cast<std::size_t>(p.m) * p.n);
  const int lda = p.ta ? p.m : p.k, ldb = p.tb ? p.k : p.n;
  const float one = 1, zero = 0;
  const char ta = p.ta ? 'T' : 'N', tb = p.tb ? 'T' : 'N';
  const double flops = 2.0 * p.m * p.n * p.k;
  const int iters = std::max(3, static_cast<int>(5e8 / flops));
  auto run = [&] {
    for (int i = 0; i < iters; ++i)
      sgemm_(&tb, &ta, &p.n, &p.m, &p.k, &one, b.data(), &ldb, a.data(), &lda, &zero, c.data(),
             &p.n);
  };
  run();
  // The fastest of the repetitions: a bound is what the machine can do, and a slower repetition
  // only says it was busy.
  double best = seconds(run);
  for (int r = 0; r < 4; ++r) best = std::min(best, seconds(run));
  return best / iters;
}

// A bound is the best the machine can do, so it is measured on a quiet machine: one measured
// while another process shared the CPU reads slow and puts of_gemm_bound above 1 (it read 1.16
// and 1.46 once). measure() is tried until other processes used at most kQuietCpus CPUs' worth
// of time during a try (read from /proc/stat before and after), up to kTries times; nullopt
// when no try was quiet, with the load of the last one in *others. Where /proc/stat cannot be
// read, the first try counts.
constexpr double kQuietCpus = 0.15;
constexpr int kTries = 5;
std::optional<double> when_quiet(const std::function<double()>& measure, double* others) {
  for (int t = 0; t < kTries; ++t) {
    tg::detail::OthersLoad load;
    const double value = measure();
    const std::optional<double> o = load.sample(0);
    if (!o || *o <= kQuietCpus) return value;
    *others = *o;
  }
  return std::nullopt;
}

// The best OpenBLAS does with up to `threads` threads: its own threading loses on small shapes.
// All of p's count products; independent ones may instead run one a thread at a time.
double sgemm_seconds(const Product& p, int threads) {
  const double one = sgemm_seconds_at(p, 1);
  double best = one;
  for (int t = 2; t <= threads; ++t) best = std::min(best, sgemm_seconds_at(p, t));
  best *= p.count;
  if (p.independent) best = std::min(best, one * ((p.count + threads - 1) / threads));
  return best;
}

double flops_of(const std::vector<Product>& products) {
  double flops = 0;
  for (const Product& p : products) flops += 2.0 * p.m * p.n * p.k * p.count;
  return flops;
}

// B4's two convolutions at batch 64, forward and backward through tapegrad (the first layer's
// input needs no gradient, as in training), against the time OpenBLAS takes for the same
// products, one call each (core/src/ops/conv.cpp's): forward W cols, weight gradient gy cols^T,
// input gradient W^T gy.
void bench_conv(int threads) {
  struct Layer {
    const char* name;
    int c, h, o, k;
    bool input_grad;
  };
  for (const Layer& l :
       {Layer{"conv1", 1, 28, 10, 5, false}, Layer{"conv2", 10, 12, 20, 5, true}}) {
    tg::set_num_threads(threads);
    tg::Generator gen(2);
    const int ho = l.h - l.k + 1, rows = 64 * ho * ho, ckk = l.c * l.k * l.k;
    tg::Tensor x = tg::randn({64, l.c, l.h, l.h}, {.requires_grad = l.input_grad}, &gen);
    tg::Tensor w = tg::randn({l.o, l.c, l.k, l.k}, {.requires_grad = true}, &gen);
    tg::Tensor b = tg::randn({l.o}, {.requires_grad = true}, &gen);
    const tg::Tensor g = tg::randn({64, l.o, ho, ho}, {}, &gen);
    std::vector<Product> products{{l.o, rows, ckk, false, false}, {l.o, ckk, rows, false, true}};
    if (l.input_grad) products.push_back({ckk, rows, l.o, true, false});
    double others = 0;
    const double flops = flops_of(products);
    const std::optional<double> bound = when_quiet(
        [&] {
          double secs = 0;
          for (const Product& p : products) secs += sgemm_seconds(p, threads);
          return secs;
        },
        &others);
    const int iters = 50;
    auto ours = [&] {
      for (int i = 0; i < iters; ++i) {
        tg::conv2d(x, w, b).backward(g);
        x.zero_grad();
        w.zero_grad();
        b.zero_grad();
      }
    };
    ours();
    std::vector<double> t;
    for (int r = 0; r < 5; ++r) t.push_back(seconds(ours) / iters);
    const double o = median(t);
    std::printf("BENCH conv layer=%s shape=(64,%d,%d,%d)->%d k=%d threads=%d tapegrad_gflops=%.1f ",
                l.name, l.c, l.h, l.h, l.o, l.k, threads, flops / o * 1e-9);
    if (bound)
      std::printf("sgemm_gflops=%.1f of_gemm_bound=%.2f\n", flops / *bound * 1e-9, *bound / o);
    else
      std::printf("of_gemm_bound=busy others_cpus=%.2f\n", others);
  }
}

// B5's products a step: per LSTM layer the input projection of all steps, one recurrent
// product per step (each waits for the last), and backward the same per step, then one each
// for dx, dW_ih and dW_hh over the whole sequence (core/src/ops/rnn.cpp's); then the head.
std::vector<Product> b5_products(int vocab) {
  using namespace bench;
  const int rows = kB5Seq * kB5Batch, g = 4 * kB5Hidden, h = kB5Hidden;
  std::vector<Product> ps;
  for (int l = 0; l < kB5Layers; ++l) {
    const int in = l == 0 ? kB5Embed : kB5Hidden;
    ps.push_back({rows, g, in, false, true});
    ps.push_back({kB5Batch, g, h, false, true, kB5Seq});
    ps.push_back({kB5Batch, h, g, false, false, kB5Seq});
    ps.insert(ps.end(),
              {{rows, in, g, false, false}, {g, in, rows, true, false}, {g, h, rows, true, false}});
  }
  ps.push_back({rows, vocab, h, false, true});
  ps.push_back({vocab, h, rows, true, false});
  ps.push_back({rows, h, vocab, false, false});
  return ps;
}

// B6's products a step: per layer the q, k and v projections and the output one, per (batch
// entry, head) the scores q k^T and their product with v, and backward the four per head
// (core/src/ops/attention.cpp's), then the feed-forward block; then the head.
std::vector<Product> b6_products(int vocab) {
  using namespace bench;
  const int rows = kB6Seq * kB6Batch, d = kB6Dim, t = kB6Seq, dh = kB6Dim / kB6Heads;
  const int heads = kB6Batch * kB6Heads;
  std::vector<Product> ps;
  auto linear = [&](int in, int out) {
    ps.insert(ps.end(), {{rows, out, in, false, true},
                         {out, in, rows, true, false},
                         {rows, in, out, false, false}});
  };
  for (int l = 0; l < kB6Layers; ++l) {
    for (int k = 0; k < 4; ++k) linear(d, d);
    ps.insert(ps.end(), {{t, t, dh, false, true, heads, true},
                         {t, dh, t, false, false, heads, true},
                         {t, dh, t, true, false, heads, true},
                         {t, t, dh, false, true, heads, true},
                         {t, dh, t, false, false, heads, true},
                         {t, dh, t, true, false, heads, true}});
    linear(d, kB6Ff);
    linear(kB6Ff, d);
  }
  linear(d, vocab);
  return ps;
}

// The GEMM bound of a whole run: every product a training step of the workload makes, timed
// as one OpenBLAS call each (the best of 1 to `threads` threads), times the run's steps (a
// 60,000-image epoch; B5's and B6's pass over their text). run.sh divides it by tapegrad's
// time: of_gemm_bound. Linear(in, out) at batch b makes y = x W^T, gW = gy^T x and, past the
// first layer, gx = gy W.
void bench_bound(int threads) {
  auto linear = [](std::vector<Product>& ps, int b, int in, int out, bool input_grad) {
    ps.push_back({b, out, in, false, true});
    ps.push_back({out, in, b, true, false});
    if (input_grad) ps.push_back({b, in, out, false, false});
  };
  struct Workload {
    const char* name;
    std::int64_t steps;
    std::vector<Product> products;
  };
  std::vector<Workload> workloads{
      {"B1", 60000 / 64, {}}, {"B2", 60000 / 256, {}}, {"B4", 60000 / 64, {}}};
  linear(workloads[0].products, 64, 784, 128, false);
  linear(workloads[0].products, 64, 128, 10, true);
  linear(workloads[1].products, 256, 784, 1024, false);
  linear(workloads[1].products, 256, 1024, 1024, true);
  linear(workloads[1].products, 256, 1024, 10, true);
  // B4: each convolution as im2col products over the whole batch (as in bench_conv), then the
  // two linear layers.
  std::vector<Product>& cnn = workloads[2].products;
  cnn.insert(cnn.end(), {{10, 64 * 576, 25, false, false},
                         {10, 25, 64 * 576, false, true},
                         {20, 64 * 64, 250, false, false},
                         {20, 250, 64 * 64, false, true},
                         {250, 64 * 64, 20, true, false}});
  linear(cnn, 64, 320, 50, true);
  linear(cnn, 64, 50, 10, true);
  if (std::filesystem::exists(bench::b5_text_path())) {
    const bench::Text text = bench::b5_text();
    workloads.push_back({"B5", bench::b5_steps(text), b5_products(text.vocab)});
    workloads.push_back({"B6", bench::b6_steps(text), b6_products(text.vocab)});
  } else {
    std::fprintf(stderr, "bench_core bound: no B5 or B6 rows without %s (make data)\n",
                 bench::b5_text_path().c_str());
  }
  // Rounds over all the workloads, each workload's fastest quiet one kept: a slow spell that
  // /proc/stat does not show (another guest on the same host) lasts seconds, so spread-out
  // rounds see past it where back-to-back repetitions do not.
  constexpr int kRounds = 3;
  std::vector<std::optional<double>> best(workloads.size());
  std::vector<double> others(workloads.size(), 0);
  for (int r = 0; r < kRounds; ++r)
    for (std::size_t i = 0; i < workloads.size(); ++i) {
      const std::optional<double> secs = when_quiet(
          [&] {
            double sum = 0;
            for (const Product& p : workloads[i].products) sum += sgemm_seconds(p, threads);
            return sum;
          },
          &others[i]);
      if (secs && (!best[i] || *secs < *best[i])) best[i] = secs;
    }
  for (std::size_t i = 0; i < workloads.size(); ++i) {
    const Workload& w = workloads[i];
    const auto steps = static_cast<double>(w.steps);
    const double flops = flops_of(w.products);
    std::printf("BENCH bound workload=%s threads=%d products_per_step=%zu gflop_per_epoch=%.2f ",
                w.name, threads, w.products.size(), flops * steps * 1e-9);
    // A machine busy through every try gets no figure rather than a wrong one (run.sh then
    // prints "busy").
    if (best[i])
      std::printf("sgemm_gflops=%.1f gemm_bound_s=%.4f\n", flops / *best[i] * 1e-9,
                  *best[i] * steps);
    else
      std::printf("busy others_cpus=%.2f\n", others[i]);
  }
}

#endif

// What train's per-step calls cost: ProgressBar::update (terminal mode, drawing into /dev/null
// at most every 0.1 s; line mode) and MetricsLog::log_step (a CSV row, buffered).
void bench_train_furniture() {
  constexpr int kIters = 1000000;
  std::FILE* null = std::fopen("/dev/null", "w");
  std::vector<double> bar, lines, log;
  for (int r = 0; r < 5; ++r) {
    bar.push_back(seconds([&] {
      tg::train::ProgressBar b(kIters, {.out = null, .terminal = true});
      for (int i = 0; i < kIters; ++i) b.update(1, 0.5);
    }));
    lines.push_back(seconds([&] {
      tg::train::ProgressBar b(kIters, {.out = null, .terminal = false});
      for (int i = 0; i < kIters; ++i) b.update(1, 0.5);
    }));
    log.push_back(seconds([&] {
      tg::train::MetricsLog l({.steps_csv = "/dev/null"});
      for (int i = 0; i < kIters / 10; ++i)
        l.log_step({{"epoch", 1}, {"step", static_cast<double>(i)}, {"loss", 0.25}, {"lr", 1e-3}});
    }));
  }
  std::fclose(null);
  std::printf("BENCH train op=progress_update_terminal ns_per_call=%.1f\n",
              median(bar) / kIters * 1e9);
  std::printf("BENCH train op=progress_update_lines ns_per_call=%.1f\n",
              median(lines) / kIters * 1e9);
  std::printf("BENCH train op=metrics_log_step ns_per_call=%.0f\n",
              median(log) / (kIters / 10) * 1e9);
}

// fit() against the loop written by hand on B1's network (784-128-10, SGD + momentum, batch
// 64) over 6400 random samples: the same steps, so the ratio is fit's own cost (its progress
// bar off: bench_train_furniture measures an update, and this output must stay clean).
void bench_fit() {
  tg::Generator gen(3);
  const tg::Tensor x = tg::randn({6400, 784}, {}, &gen),
                   y = tg::randint(0, 10, {6400}, {.dtype = tg::kInt64}, &gen);
  const tg::data::TensorDataset ds(x, y);
  tg::data::DataLoader loader(ds, {.batch_size = 64, .shuffle = true, .seed = 1});
  tg::nn::Sequential model(tg::nn::Linear(784, 128), tg::nn::Sigmoid(), tg::nn::Linear(128, 10));
  tg::optim::SGD opt(model.parameters(), {.lr = 0.01, .momentum = 0.9});
  std::vector<double> hand, fit;
  for (int r = 0; r < 9; ++r) {
    hand.push_back(seconds([&] {
      for (auto& [xb, yb] : loader) {
        tg::Tensor loss = tg::nn::functional::cross_entropy(model(xb), yb);
        opt.zero_grad();
        loss.backward();
        opt.step();
      }
    }));
    fit.push_back(
        seconds([&] { tg::train::fit(model, opt, loader, {.epochs = 1, .verbose = false}); }));
  }
  std::printf("BENCH train op=fit_epoch hand_s=%.4f fit_s=%.4f fit_over_hand=%.3f\n", median(hand),
              median(fit), median(fit) / median(hand));
}

// Hogwild's update of a shared tensor against the plain loop a data race would be: nanoseconds
// per element over B1's 101,770 parameters, every element changed. The plain loop runs on one
// thread only (on two it would be the race); the atomic forms also on two threads updating the
// same tensor at once, where the cache lines travel between the cores.
void bench_hogwild_update() {
  constexpr std::int64_t kN = 784 * 128 + 128 + 128 * 10 + 10;
  constexpr int kReps = 200;
  std::vector<float> shared(kN, 1.0f), was(kN, 1.0f), now(kN, 0.999f);
  using tg::train::HogwildUpdate;
  auto per_element = [&](auto&& update, int threads) {
    std::vector<double> t;
    for (int r = 0; r < 5; ++r)
      t.push_back(seconds([&] {
        std::vector<std::thread> pool;
        for (int k = 0; k < threads; ++k)
          pool.emplace_back([&] {
            for (int i = 0; i < kReps; ++i) update();
          });
        for (auto& th : pool) th.join();
      }));
    return median(t) / (static_cast<double>(kReps) * kN) * 1e9;
  };
  const double plain = per_element(
      [&] {
        for (std::int64_t j = 0; j < kN; ++j) shared[j] += now[j] - was[j];
      },
      1);
  auto atomic = [&](HogwildUpdate how, int threads) {
    return per_element(
        [&] { tg::train::detail::publish(shared.data(), was.data(), now.data(), kN, how); },
        threads);
  };
  std::vector<float> into(kN);
  const double read =
      per_element([&] { tg::train::detail::read_shared(shared.data(), into.data(), kN); }, 1);
  std::printf(
      "BENCH hogwild op=update threads=1 plain_ns=%.3f add_ns=%.3f loadstore_ns=%.3f "
      "read_ns=%.3f\n",
      plain, atomic(HogwildUpdate::Add, 1), atomic(HogwildUpdate::LoadStore, 1), read);
  std::printf("BENCH hogwild op=update threads=2 add_ns=%.3f loadstore_ns=%.3f\n",
              atomic(HogwildUpdate::Add, 2), atomic(HogwildUpdate::LoadStore, 2));
}

// B1's network (784-128-10, SGD + momentum, batch 64) over 6400 random samples, epochs of the
// loop written by hand (at 1 and 2 threads) against hogwild() with 1 and 2 workers, each update
// form: samples per second.
void bench_hogwild_epoch() {
  tg::Generator gen(3);
  const tg::Tensor x = tg::randn({6400, 784}, {}, &gen),
                   y = tg::randint(0, 10, {6400}, {.dtype = tg::kInt64}, &gen);
  const tg::data::TensorDataset ds(x, y);
  auto make = [] {
    return std::make_shared<tg::nn::Sequential>(tg::nn::Linear(784, 128), tg::nn::Sigmoid(),
                                                tg::nn::Linear(128, 10));
  };
  auto make_opt = [](tg::nn::Module& m) {
    return std::make_unique<tg::optim::SGD>(m.parameters(),
                                            tg::optim::SGDOptions{.lr = 0.01, .momentum = 0.9});
  };
  auto hand = [&](int threads) {
    tg::set_num_threads(threads);
    auto model = make();
    auto opt = make_opt(*model);
    tg::data::DataLoader loader(ds, {.batch_size = 64, .shuffle = true, .seed = 1});
    std::vector<double> t;
    for (int r = 0; r < 5; ++r)
      t.push_back(seconds([&] {
        for (auto& [xb, yb] : loader) {
          tg::Tensor loss = tg::nn::functional::cross_entropy((*model)(xb), yb);
          opt->zero_grad();
          loss.backward();
          opt->step();
        }
      }));
    tg::set_num_threads(1);
    return 6400 / median(t);
  };
  auto hogwild = [&](int workers, tg::train::HogwildUpdate how) {
    auto model = make();
    std::vector<double> t;
    for (int r = 0; r < 5; ++r)
      t.push_back(tg::train::hogwild(*model, make, make_opt, ds,
                                     {.workers = workers, .batch_size = 64, .update = how})
                      .seconds);
    return 6400 / median(t);
  };
  using tg::train::HogwildUpdate;
  const double h1 = hand(1), h2 = hand(2);
  const double w1 = hogwild(1, HogwildUpdate::LoadStore), w2 = hogwild(2, HogwildUpdate::LoadStore);
  const double a1 = hogwild(1, HogwildUpdate::Add), a2 = hogwild(2, HogwildUpdate::Add);
  std::printf(
      "BENCH hogwild op=epoch samples_per_s hand_1t=%.0f hand_2t=%.0f loadstore_1w=%.0f "
      "loadstore_2w=%.0f add_1w=%.0f add_2w=%.0f\n",
      h1, h2, w1, w2, a1, a2);
}
}  // namespace

// bench_core [overhead|train|hogwild|matmul|pool|activation|conv|bound ...]: the named parts, or
// all of them.
// B4's two max-pools (2x2, stride 2): nanoseconds per window, forward alone and forward plus
// backward, the median of five rounds of 50 batches.
void bench_pool(int threads) {
  tg::set_num_threads(threads);
  for (const auto& [name, shape] : std::vector<std::pair<const char*, tg::Shape>>{
           {"pool1", {64, 10, 24, 24}}, {"pool2", {64, 20, 8, 8}}}) {
    tg::Generator gen(2);
    tg::Tensor x = tg::randn(shape, {.requires_grad = true}, &gen);
    const double windows = static_cast<double>(x.numel()) / 4;
    const tg::Tensor g = tg::randn({shape[0], shape[1], shape[2] / 2, shape[3] / 2}, {}, &gen);
    const int iters = 50;
    auto forward = [&] {
      tg::NoGradGuard no_grad;
      for (int i = 0; i < iters; ++i) tg::max_pool2d(x, {.kernel_size = 2});
    };
    auto both = [&] {
      for (int i = 0; i < iters; ++i) {
        tg::max_pool2d(x, {.kernel_size = 2}).backward(g);
        x.zero_grad();
      }
    };
    both();
    std::vector<double> f, b;
    for (int r = 0; r < 5; ++r) {
      f.push_back(seconds(forward) / iters);
      b.push_back(seconds(both) / iters);
    }
    std::printf(
        "BENCH pool layer=%s threads=%d forward_ns_per_window=%.2f "
        "forward_backward_ns_per_window=%.2f\n",
        name, threads, median(f) / windows * 1e9, median(b) / windows * 1e9);
  }
}

// gelu's two forms, forward and backward over a GELU MLP's worth of activations: the exact
// form's erf and exp and the tanh form's exp are Eigen's vectorised ones.
void bench_activation(int threads) {
  tg::set_num_threads(threads);
  for (const tg::Dtype dtype : {tg::kFloat32, tg::kFloat64})
    for (const auto approximate : {tg::GeluApproximate::None, tg::GeluApproximate::Tanh}) {
      tg::Generator gen(3);
      tg::Tensor x = tg::randn({1 << 20}, {.dtype = dtype, .requires_grad = true}, &gen);
      const tg::Tensor g = tg::randn({1 << 20}, {.dtype = dtype}, &gen);
      const int iters = 10;
      auto both = [&] {
        for (int i = 0; i < iters; ++i) {
          tg::gelu(x, approximate).backward(g);
          x.zero_grad();
        }
      };
      both();
      std::vector<double> t;
      for (int r = 0; r < 5; ++r) t.push_back(seconds(both) / iters);
      std::printf(
          "BENCH activation op=%s dtype=%s threads=%d forward_backward_ns_per_element=%.2f\n",
          approximate == tg::GeluApproximate::Tanh ? "gelu_tanh" : "gelu",
          dtype == tg::kFloat32 ? "float32" : "float64", threads,
          median(t) / static_cast<double>(x.numel()) * 1e9);
    }
}

int main(int argc, char** argv) {
  const std::vector<std::string> want(argv + 1, argv + argc);
  auto on = [&](const char* part) {
    return want.empty() || std::find(want.begin(), want.end(), part) != want.end();
  };
  tg::set_num_threads(1);
  if (on("overhead")) bench_overhead();
  if (on("train")) {
    bench_train_furniture();
    bench_fit();
  }
  if (on("hogwild")) {
    bench_hogwild_update();
    bench_hogwild_epoch();
  }
  for (int threads : {1, 2}) {
    if (on("matmul")) {
      bench_matmul(64, 784, 128, threads);
      bench_matmul(256, 1024, 1024, threads);
      bench_matmul_t(32, 64, 32, threads);
    }
    if (on("pool")) bench_pool(threads);
    if (on("activation")) bench_activation(threads);
#ifdef TAPEGRAD_BENCH_SGEMM
    if (on("conv")) bench_conv(threads);
    if (on("bound")) bench_bound(threads);
#endif
  }
}
