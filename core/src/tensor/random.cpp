// The random generator (a 64-bit Mersenne Twister with its state as text for checkpoints), the
// global one that manual_seed() seeds, and the tensors drawn from them.
#include "tapegrad/core/random.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>
#include <vector>

#include "kernels/dispatch.h"
#include "tensor/check.h"

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

namespace {
// Every row's weights as double, checked: finite, non-negative, a positive sum, and (without
// replacement) enough categories of non-zero weight for num_samples distinct draws.
std::vector<double> checked_weights(const TensorImpl& w, std::int64_t rows, std::int64_t n,
                                    std::int64_t num_samples, bool replacement) {
  std::vector<double> v(static_cast<std::size_t>(w.numel));
  dispatch_float(w.dtype, "multinomial",
                 [&]<typename T>() { std::copy(w.data<T>(), w.data<T>() + w.numel, v.begin()); });
  for (std::int64_t r = 0; r < rows; ++r) {
    double sum = 0;
    std::int64_t nonzero = 0;
    for (std::int64_t c = 0; c < n; ++c) {
      const double x = v[static_cast<std::size_t>(r * n + c)];
      if (!std::isfinite(x) || x < 0)
        throw ValueError(msg("multinomial: weights must be finite and non-negative: row ", r,
                             ", category ", c, " is ", x));
      sum += x;
      nonzero += x > 0;
    }
    if (!(sum > 0)) throw ValueError(msg("multinomial: row ", r, "'s weights sum to 0"));
    if (!replacement && num_samples > nonzero)
      throw ValueError(msg("multinomial: cannot draw ", num_samples,
                           " distinct samples without replacement from row ", r, ", which has ",
                           nonzero, " categories of non-zero weight"));
  }
  return v;
}
}  // namespace

Tensor multinomial(const Tensor& weights, std::int64_t num_samples, bool replacement,
                   Generator* gen) {
  const TensorImpl& w = impl_of(weights, "multinomial");
  if (w.shape.size() != 1 && w.shape.size() != 2)
    throw ShapeError(
        msg("multinomial: weights must be 1-D or 2-D, got shape ", shape_str(w.shape)));
  check_floating("multinomial", w);
  const std::int64_t n = w.shape.back(), rows = w.shape.size() == 2 ? w.shape[0] : 1;
  if (num_samples <= 0)
    throw ValueError(msg("multinomial: num_samples must be positive, got ", num_samples));
  if (n == 0) throw ValueError("multinomial: there are no categories to draw from");
  const std::vector<double> v = checked_weights(w, rows, n, num_samples, replacement);
  Shape out_shape = w.shape;
  out_shape.back() = num_samples;
  ImplPtr out = make_impl(out_shape, kInt64);
  std::int64_t* o = out->data<std::int64_t>();
  std::vector<double> scratch(static_cast<std::size_t>(n));
  std::vector<std::int64_t> order(replacement ? 0 : static_cast<std::size_t>(n));
  Generator& g = gen ? *gen : default_generator();
  g.with_engine([&](std::mt19937_64& e) {
    std::uniform_real_distribution<double> uniform;
    std::exponential_distribution<double> exponential;
    for (std::int64_t r = 0; r < rows; ++r) {
      const double* row = v.data() + r * n;
      std::int64_t* out_row = o + r * num_samples;
      if (replacement) {
        // Inverse transform: a uniform point in [0, total) located in the running sums.
        std::partial_sum(row, row + n, scratch.begin());
        const double total = scratch.back();
        for (std::int64_t k = 0; k < num_samples; ++k) {
          const double u = uniform(e) * total;
          auto at = std::upper_bound(scratch.begin(), scratch.end(), u) - scratch.begin();
          // u < total, but rounding may put it at the end, or on a zero-weight category's
          // running sum: step back to the last category with weight.
          at = std::min<std::ptrdiff_t>(at, n - 1);
          while (row[at] == 0) --at;
          out_row[k] = at;
        }
      } else {
        // Efraimidis-Spirakis: the num_samples largest keys w / E (E exponential) are
        // distributed as num_samples draws without replacement, in draw order.
        for (std::int64_t c = 0; c < n; ++c)
          scratch[static_cast<std::size_t>(c)] = row[c] > 0 ? row[c] / exponential(e) : 0;
        std::iota(order.begin(), order.end(), std::int64_t{0});
        std::partial_sort(order.begin(), order.begin() + num_samples, order.end(),
                          [&](std::int64_t a, std::int64_t b) {
                            return scratch[a] > scratch[b] || (scratch[a] == scratch[b] && a < b);
                          });
        std::copy(order.begin(), order.begin() + num_samples, out_row);
      }
    }
  });
  return Tensor(std::move(out));
}

}  // namespace tapegrad
