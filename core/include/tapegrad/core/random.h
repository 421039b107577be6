// Random numbers: a seedable generator and the tensors drawn from it. The global generator is
// seeded by manual_seed(), so a run with the same seed reproduces exactly.
#pragma once
#include <cstdint>
#include <random>
#include <string>

#include "tapegrad/core/tensor.h"

namespace tapegrad {

/// A 64-bit Mersenne Twister with the distributions tapegrad draws from.
class Generator {
 public:
  explicit Generator(std::uint64_t seed = 5489) : engine_(seed) {}
  void seed(std::uint64_t s) { engine_.seed(s); }
  /// Uniform in [lo, hi).
  double uniform(double lo = 0, double hi = 1);
  /// Normal with the given mean and standard deviation.
  double normal(double mean = 0, double std = 1);
  /// Uniform integer in [lo, hi).
  std::int64_t randint(std::int64_t lo, std::int64_t hi);
  std::mt19937_64& engine() { return engine_; }
  /// The engine's full state as text, for checkpoints.
  std::string state() const;
  /// Restores a state() string; throws ValueError if it is not one.
  void set_state(const std::string& s);

 private:
  std::mt19937_64 engine_;
};

/// The global generator used when none is given (one per process, not thread-safe).
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

}  // namespace tapegrad
