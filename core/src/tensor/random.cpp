// The random generator (a 64-bit Mersenne Twister with its state as text for checkpoints), the
// global one that manual_seed() seeds, and the tensors drawn from them.
#include "tapegrad/core/random.h"

#include <algorithm>
#include <numeric>
#include <sstream>

#include "kernels/dispatch.h"

namespace tapegrad {

namespace {
// A tensor of the given shape filled element by element from d() in row-major order.
template <typename Draw>
Tensor draw(const Shape& shape, TensorOptions opts, Draw d) {
  ImplPtr t = make_impl(shape, opts.dtype);
  dispatch_all(opts.dtype, [&]<typename T>() {
    T* p = t->data<T>();
    for (std::int64_t i = 0; i < t->numel; ++i) p[i] = static_cast<T>(d());
  });
  Tensor r(std::move(t));
  r.requires_grad_(opts.requires_grad);
  return r;
}
}  // namespace

double Generator::uniform(double lo, double hi) {
  return std::uniform_real_distribution<double>(lo, hi)(engine_);
}
double Generator::normal(double mean, double std) {
  return std::normal_distribution<double>(mean, std)(engine_);
}
std::int64_t Generator::randint(std::int64_t lo, std::int64_t hi) {
  return std::uniform_int_distribution<std::int64_t>(lo, hi - 1)(engine_);
}

std::string Generator::state() const {
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
  engine_ = e;
}

Generator& default_generator() {
  static Generator g(5489);
  return g;
}
void manual_seed(std::uint64_t seed) { default_generator().seed(seed); }

Tensor rand(const Shape& shape, TensorOptions opts, Generator* gen) {
  Generator& g = gen ? *gen : default_generator();
  return draw(shape, opts, [&] { return g.uniform(); });
}
Tensor randn(const Shape& shape, TensorOptions opts, Generator* gen) {
  Generator& g = gen ? *gen : default_generator();
  std::normal_distribution<double> normal;  // one distribution: it caches the Box-Muller pair
  return draw(shape, opts, [&] { return normal(g.engine()); });
}
Tensor randint(std::int64_t low, std::int64_t high, const Shape& shape, TensorOptions opts,
               Generator* gen) {
  if (low >= high) throw ValueError(msg("randint: empty range [", low, ", ", high, ")"));
  Generator& g = gen ? *gen : default_generator();
  std::uniform_int_distribution<std::int64_t> d(low, high - 1);
  return draw(shape, opts, [&] { return d(g.engine()); });
}
Tensor randperm(std::int64_t n, Generator* gen) {
  if (n < 0) throw ValueError(msg("randperm: n must be >= 0, got ", n));
  Generator& g = gen ? *gen : default_generator();
  std::vector<std::int64_t> p(static_cast<std::size_t>(n));
  std::iota(p.begin(), p.end(), 0);
  std::shuffle(p.begin(), p.end(), g.engine());  // Fisher-Yates on the generator's engine
  return from_vector(p);
}

}  // namespace tapegrad
