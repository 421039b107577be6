// The random generator (a 64-bit Mersenne Twister with its state as text for checkpoints), the
// global one that manual_seed() seeds, and the tensors drawn from them.
#include "tapegrad/core/random.h"

#include <algorithm>
#include <numeric>
#include <sstream>

#include "kernels/dispatch.h"

namespace tapegrad {

namespace {
// A tensor of the given shape filled element by element from d(engine) in row-major order,
// under the generator's lock: the tensor is one run of the stream whatever other threads draw.
template <typename Draw>
Tensor draw(Generator& g, const Shape& shape, TensorOptions opts, Draw d) {
  ImplPtr t = make_impl(shape, opts.dtype);
  g.with_engine([&](std::mt19937_64& engine) {
    dispatch_all(opts.dtype, [&]<typename T>() {
      T* p = t->data<T>();
      for (std::int64_t i = 0; i < t->numel; ++i) p[i] = static_cast<T>(d(engine));
    });
  });
  Tensor r(std::move(t));
  r.requires_grad_(opts.requires_grad);
  return r;
}
}  // namespace

Generator::Generator(const Generator& other) {
  const std::lock_guard<std::mutex> lock(other.mutex_);
  engine_ = other.engine_;
}

Generator& Generator::operator=(const Generator& other) {
  if (this == &other) return *this;
  const std::scoped_lock lock(mutex_, other.mutex_);  // both, in an order that cannot deadlock
  engine_ = other.engine_;
  return *this;
}

void Generator::seed(std::uint64_t s) {
  const std::lock_guard<std::mutex> lock(mutex_);
  engine_.seed(s);
}
double Generator::uniform(double lo, double hi) {
  return with_engine(
      [&](std::mt19937_64& e) { return std::uniform_real_distribution<double>(lo, hi)(e); });
}
double Generator::normal(double mean, double std) {
  return with_engine(
      [&](std::mt19937_64& e) { return std::normal_distribution<double>(mean, std)(e); });
}
std::int64_t Generator::randint(std::int64_t lo, std::int64_t hi) {
  return with_engine([&](std::mt19937_64& e) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi - 1)(e);
  });
}
std::uint64_t Generator::next() {
  return with_engine([](std::mt19937_64& e) { return e(); });
}

std::string Generator::state() const {
  const std::lock_guard<std::mutex> lock(mutex_);
  std::ostringstream os;
  os << engine_;
  return os.str();
}
void Generator::set_state(const std::string& s) {
  std::istringstream is(s);
  std::mt19937_64 e;
  is >> e;
  std::string rest;
  if (is.fail() || is >> rest)
    throw ValueError(msg("Generator::set_state: not a generator state (", s.size(),
                         " characters that do not parse as one)"));
  const std::lock_guard<std::mutex> lock(mutex_);
  engine_ = e;
}

Generator& default_generator() {
  static Generator g(5489);
  return g;
}
void manual_seed(std::uint64_t seed) { default_generator().seed(seed); }

Tensor rand(const Shape& shape, TensorOptions opts, Generator* gen) {
  Generator& g = gen ? *gen : default_generator();
  std::uniform_real_distribution<double> uniform;
  return draw(g, shape, opts, [&](std::mt19937_64& e) { return uniform(e); });
}
Tensor randn(const Shape& shape, TensorOptions opts, Generator* gen) {
  Generator& g = gen ? *gen : default_generator();
  std::normal_distribution<double> normal;  // one distribution: it caches the Box-Muller pair
  return draw(g, shape, opts, [&](std::mt19937_64& e) { return normal(e); });
}
Tensor randint(std::int64_t low, std::int64_t high, const Shape& shape, TensorOptions opts,
               Generator* gen) {
  if (low >= high) throw ValueError(msg("randint: empty range [", low, ", ", high, ")"));
  Generator& g = gen ? *gen : default_generator();
  std::uniform_int_distribution<std::int64_t> d(low, high - 1);
  return draw(g, shape, opts, [&](std::mt19937_64& e) { return d(e); });
}
Tensor randperm(std::int64_t n, Generator* gen) {
  if (n < 0) throw ValueError(msg("randperm: n must be >= 0, got ", n));
  Generator& g = gen ? *gen : default_generator();
  std::vector<std::int64_t> p(static_cast<std::size_t>(n));
  std::iota(p.begin(), p.end(), 0);
  // Fisher-Yates on the generator's engine, as one run of its stream.
  g.with_engine([&](std::mt19937_64& e) { std::shuffle(p.begin(), p.end(), e); });
  return from_vector(p);
}

}  // namespace tapegrad
