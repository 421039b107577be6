// Random numbers: a seedable generator and the tensors drawn from it. The global generator is
// seeded by manual_seed(), so a run with the same seed reproduces exactly. A generator may be
// shared by threads: every draw holds its lock, and a tensor's draws are one run of the stream.
#pragma once
#include <cstdint>
#include <mutex>
#include <random>
#include <string>

#include "tapegrad/core/tensor.h"

namespace tapegrad {

/// A 64-bit Mersenne Twister with the distributions tapegrad draws from. Safe to share between
/// threads (as torch's CPU generator, it locks for every draw): two threads drawing at once
/// each get whole runs of the stream, in an order the scheduler picks.
class Generator {
 public:
  /// A generator seeded with seed (5489 is std::mt19937_64's default seed).
  explicit Generator(std::uint64_t seed = 5489) : engine_(seed) {}
  /// A generator in other's state (copied under other's lock).
  Generator(const Generator& other);
  /// Takes other's state (both locked).
  Generator& operator=(const Generator& other);
  /// Restarts the stream from seed s, as a new Generator(s) would.
  void seed(std::uint64_t s);
  /// Uniform in [lo, hi).
  double uniform(double lo = 0, double hi = 1);
  /// Normal with the given mean and standard deviation.
  double normal(double mean = 0, double std = 1);
  /// Uniform integer in [lo, hi).
  std::int64_t randint(std::int64_t lo, std::int64_t hi);
  /// The engine's next 64 raw bits.
  std::uint64_t next();
  /// Calls f(engine) under the generator's lock and returns what f returns: a run of draws
  /// (a tensor, a shuffle) that no other thread's draws interleave.
  template <typename F>
  decltype(auto) with_engine(F&& f) {
    const std::lock_guard<std::mutex> lock(mutex_);
    return f(engine_);
  }
  /// The engine itself, unlocked: for a generator that one thread owns (a loader's per-epoch
  /// shuffle); shared generators draw through the calls above.
  std::mt19937_64& engine() { return engine_; }
  /// The engine's full state as text, for checkpoints.
  std::string state() const;
  /// Restores a state() string; throws ValueError if it is not one.
  void set_state(const std::string& s);

 private:
  mutable std::mutex mutex_;
  std::mt19937_64 engine_;
};

/// The global generator used when none is given (one per process; safe to use from several
/// threads, whose draws then come in the order they take its lock).
Generator& default_generator();
/// Reseeds the global generator.
void manual_seed(std::uint64_t seed);

/// Uniform in [0, 1).
Tensor rand(const Shape& shape, TensorOptions opts = {}, Generator* gen = nullptr);
/// Standard normal.
Tensor randn(const Shape& shape, TensorOptions opts = {}, Generator* gen = nullptr);
/// Integers uniform in [low, high), dtype int64 unless opts say otherwise.
Tensor randint(std::int64_t low, std::int64_t high, const Shape& shape,
               TensorOptions opts = {.dtype = kInt64}, Generator* gen = nullptr);
/// A random permutation of 0..n-1 (int64).
Tensor randperm(std::int64_t n, Generator* gen = nullptr);

/// num_samples category indices drawn from each row of weights (torch.multinomial): weights
/// is 1-D (n categories; the result is (num_samples)) or 2-D (one distribution per row; the
/// result is (rows, num_samples)), floating, finite and non-negative, each row with a positive
/// sum; the weights need not sum to 1. With replacement every draw sees every category;
/// without, a row's draws are distinct, so num_samples may not exceed its categories of
/// non-zero weight. Draws come from gen (the global generator when null) as one run of its
/// stream; they follow the distribution, not torch's stream (the generators differ).
Tensor multinomial(const Tensor& weights, std::int64_t num_samples, bool replacement = false,
                   Generator* gen = nullptr);

}  // namespace tapegrad
