// L-BFGS: PyTorch 1.13's LBFGS.step and _strong_wolfe, in double over the parameters flattened
// into one vector (torch's _gather_flat_grad order).
#include "tapegrad/optim/lbfgs.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <deque>
#include <optional>

#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/errors.h"
#include "update.h"
#include "validate.h"

namespace tapegrad::optim {

using Vec = Eigen::VectorXd;

struct LBFGS::State {
  std::int64_t func_evals = 0, n_iter = 0;
  Vec d, prev_flat_grad;  // empty before the first iteration
  double t = 0, H_diag = 1, prev_loss = 0;
  std::deque<Vec> old_dirs, old_stps;  // y and s of the kept pairs, oldest first
  std::deque<double> ro;               // 1 / (y . s)
};

namespace {

std::int64_t total_numel(const std::vector<Tensor>& ps) {
  std::int64_t n = 0;
  for (const Tensor& p : ps) n += p.numel();
  return n;
}

// Calls f(segment, tensor-as-Eigen-array) for each parameter's run of the flat vector.
template <typename F>
void for_each_segment(const std::vector<Tensor>& ps, F f) {
  std::int64_t off = 0;
  for (const Tensor& p : ps) {
    const std::int64_t k = p.numel();
    f(off, k, p);
    off += k;
  }
}

Vec gather_grad(const std::vector<Tensor>& ps) {
  Vec v(total_numel(ps));
  for_each_segment(ps, [&](std::int64_t off, std::int64_t k, const Tensor& p) {
    const Tensor g = p.grad();
    if (!g.defined()) {  // never reached by backward: a zero gradient, as torch
      v.segment(off, k).setZero();
      return;
    }
    dispatch_float(g.dtype(), "LBFGS", [&]<typename T>() {
      v.segment(off, k) = arr<T>(g).matrix().template cast<double>();
    });
  });
  return v;
}

Vec gather_params(const std::vector<Tensor>& ps) {
  Vec v(total_numel(ps));
  for_each_segment(ps, [&](std::int64_t off, std::int64_t k, const Tensor& p) {
    dispatch_float(p.dtype(), "LBFGS", [&]<typename T>() {
      v.segment(off, k) = arr<T>(p).matrix().template cast<double>();
    });
  });
  return v;
}

void set_params(const std::vector<Tensor>& ps, const Vec& x) {
  for_each_segment(ps, [&](std::int64_t off, std::int64_t k, const Tensor& p) {
    dispatch_float(p.dtype(), "LBFGS",
                   [&]<typename T>() { arr<T>(p) = x.segment(off, k).array().template cast<T>(); });
  });
}

// p += t d, in the parameter's dtype (torch's p.add_(d, alpha=t)).
void add_to_params(const std::vector<Tensor>& ps, double t, const Vec& d) {
  for_each_segment(ps, [&](std::int64_t off, std::int64_t k, const Tensor& p) {
    dispatch_float(p.dtype(), "LBFGS", [&]<typename T>() {
      arr<T>(p) += T(t) * d.segment(off, k).array().template cast<T>();
    });
    mark_written(p);  // in place, as torch's add_
  });
}

double max_abs(const Vec& v) { return v.size() ? v.cwiseAbs().maxCoeff() : 0.0; }

// The minimiser of the cubic through (x1, f1, g1) and (x2, f2, g2), clamped to the bounds
// (default: between x1 and x2); their midpoint when the cubic has none. NaN passes through
// std::min/max as through Python's, the arguments in the same order.
double cubic_interpolate(double x1, double f1, double g1, double x2, double f2, double g2,
                         std::optional<std::pair<double, double>> bounds = {}) {
  const auto [lo, hi] = bounds ? *bounds : x1 <= x2 ? std::pair{x1, x2} : std::pair{x2, x1};
  const double d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2);
  const double d2_square = d1 * d1 - g1 * g2;
  if (!(d2_square >= 0)) return (lo + hi) / 2;
  const double d2 = std::sqrt(d2_square);
  const double min_pos = x1 <= x2 ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
                                  : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
  return std::min(std::max(min_pos, lo), hi);
}

struct Evaluated {
  double loss;
  Vec grad;
};

struct Found {
  double loss;
  Vec grad;
  double t;
  std::int64_t evals;
};

// torch's _strong_wolfe: brackets a step satisfying the strong Wolfe conditions, then zooms
// with safeguarded cubic interpolation. eval(t) gives the loss and gradient at x + t d.
template <typename Eval>
Found strong_wolfe(Eval eval, double t, const Vec& d, double f, const Vec& g, double gtd,
                   double tolerance_change, double c1 = 1e-4, double c2 = 0.9, int max_ls = 25) {
  const double d_norm = max_abs(d);
  Evaluated e = eval(t);
  std::int64_t evals = 1;
  double gtd_new = e.grad.dot(d);
  double t_prev = 0, f_prev = f, gtd_prev = gtd;
  Vec g_prev = g;
  bool done = false;
  int ls_iter = 0;
  std::array<double, 2> br{}, br_f{}, br_gtd{};
  std::array<Vec, 2> br_g;
  std::size_t size = 2;
  const auto bracket = [&] {
    br = {t_prev, t};
    br_f = {f_prev, e.loss};
    br_g = {g_prev, e.grad};
    br_gtd = {gtd_prev, gtd_new};
  };
  while (ls_iter < max_ls) {
    if (e.loss > f + c1 * t * gtd || (ls_iter > 1 && e.loss >= f_prev)) {
      bracket();
      break;
    }
    if (std::abs(gtd_new) <= -c2 * gtd) {
      br[0] = t;
      br_f[0] = e.loss;
      br_g[0] = e.grad;
      size = 1;
      done = true;
      break;
    }
    if (gtd_new >= 0) {
      bracket();
      break;
    }
    const double min_step = t + 0.01 * (t - t_prev), max_step = t * 10, previous = t;
    t = cubic_interpolate(t_prev, f_prev, gtd_prev, t, e.loss, gtd_new,
                          std::pair{min_step, max_step});
    t_prev = previous;
    f_prev = e.loss;
    g_prev = e.grad;
    gtd_prev = gtd_new;
    e = eval(t);
    ++evals;
    gtd_new = e.grad.dot(d);
    ++ls_iter;
  }
  if (ls_iter == max_ls) {  // no bracket found: between 0 and the last try
    br = {0, t};
    br_f = {f, e.loss};
    br_g = {g, e.grad};
  }
  bool insufficient_progress = false;
  std::size_t low = br_f[0] <= br_f[size - 1] ? 0 : 1, high = 1 - low;
  while (!done && ls_iter < max_ls) {
    if (std::abs(br[1] - br[0]) * d_norm < tolerance_change) break;
    t = cubic_interpolate(br[0], br_f[0], br_gtd[0], br[1], br_f[1], br_gtd[1]);
    const double top = std::max(br[0], br[1]), bottom = std::min(br[0], br[1]);
    const double eps = 0.1 * (top - bottom);
    if (std::min(top - t, t - bottom) < eps) {  // too close to an end: move in, unless new
      if (insufficient_progress || t >= top || t <= bottom) {
        t = std::abs(t - top) < std::abs(t - bottom) ? top - eps : bottom + eps;
        insufficient_progress = false;
      } else {
        insufficient_progress = true;
      }
    } else {
      insufficient_progress = false;
    }
    e = eval(t);
    ++evals;
    gtd_new = e.grad.dot(d);
    ++ls_iter;
    if (e.loss > f + c1 * t * gtd || e.loss >= br_f[low]) {
      br[high] = t;
      br_f[high] = e.loss;
      br_g[high] = e.grad;
      br_gtd[high] = gtd_new;
      low = br_f[0] <= br_f[1] ? 0 : 1;
      high = 1 - low;
    } else {
      if (std::abs(gtd_new) <= -c2 * gtd) {
        done = true;
      } else if (gtd_new * (br[high] - br[low]) >= 0) {
        br[high] = br[low];
        br_f[high] = br_f[low];
        br_g[high] = br_g[low];
        br_gtd[high] = br_gtd[low];
      }
      br[low] = t;
      br_f[low] = e.loss;
      br_g[low] = e.grad;
      br_gtd[low] = gtd_new;
    }
  }
  return {br_f[low], std::move(br_g[low]), br[low], evals};
}

}  // namespace

LBFGS::LBFGS(const std::vector<Tensor>& params, LBFGSOptions options)
    : OptimizerWith(params, options), s_(std::make_unique<State>()) {}
LBFGS::LBFGS(const NamedParams& params, LBFGSOptions options)
    : OptimizerWith(params, options), s_(std::make_unique<State>()) {}
LBFGS::~LBFGS() = default;

std::int64_t LBFGS::func_evals() const { return s_->func_evals; }
std::int64_t LBFGS::n_iter() const { return s_->n_iter; }
std::size_t LBFGS::history_length() const { return s_->old_dirs.size(); }

void LBFGS::validate(const LBFGSOptions& o) {
  require(o.lr > 0, "LBFGS", "lr", o.lr, "> 0");
  require(o.max_iter >= 1, "LBFGS", "max_iter", double(o.max_iter), ">= 1");
  require(o.max_eval == -1 || o.max_eval >= 1, "LBFGS", "max_eval", double(o.max_eval),
          ">= 1 (or -1: max_iter * 5 / 4)");
  require(o.tolerance_grad >= 0, "LBFGS", "tolerance_grad", o.tolerance_grad, ">= 0");
  require(o.tolerance_change >= 0, "LBFGS", "tolerance_change", o.tolerance_change, ">= 0");
  require(o.history_size >= 1, "LBFGS", "history_size", double(o.history_size), ">= 1");
}

void LBFGS::step() {
  throw ValueError(
      "LBFGS: step() needs a closure that re-evaluates the loss, as it evaluates it several "
      "times a step: opt.step([&] { opt.zero_grad(); Tensor l = loss(); l.backward(); return l; "
      "})");
}

Tensor LBFGS::step(const Closure& closure) {
  if (num_groups() != 1)
    throw ValueError(msg("LBFGS: supports one parameter group, this one has ", num_groups()));
  const LBFGSOptions& o = options(0);
  const std::vector<Tensor>& ps = params(0);
  // torch's default max_iter * 5 / 4, as max_iter + max_iter / 4: the same, without overflow
  // below INT64_MAX * 4 / 5, and saturated above.
  const std::int64_t max_eval = o.max_eval >= 0                  ? o.max_eval
                                : o.max_iter > INT64_MAX / 5 * 4 ? INT64_MAX
                                                                 : o.max_iter + o.max_iter / 4;
  State& st = *s_;

  const Tensor orig_loss = evaluate(closure);
  double loss = orig_loss.item();
  std::int64_t current_evals = 1;
  ++st.func_evals;
  Vec g = gather_grad(ps);
  bool opt_cond = max_abs(g) <= o.tolerance_grad;
  if (opt_cond) return orig_loss;

  // The loss and gradient at x + t d; the parameters are put back to x even if closure throws.
  const auto directional = [&](const Vec& x, double t, const Vec& d) {
    add_to_params(ps, t, d);
    struct Restore {
      const std::vector<Tensor>& ps;
      const Vec& x;
      ~Restore() { set_params(ps, x); }
    } restore{ps, x};
    const double f = evaluate(closure).item();
    return Evaluated{f, gather_grad(ps)};
  };

  for (std::int64_t n_iter = 1; n_iter <= o.max_iter; ++n_iter) {
    ++st.n_iter;
    if (st.n_iter == 1) {
      st.d = -g;
      st.old_dirs.clear();
      st.old_stps.clear();
      st.ro.clear();
      st.H_diag = 1;
    } else {
      Vec y = g - st.prev_flat_grad;
      Vec s = st.d * st.t;
      const double ys = y.dot(s);
      if (ys > 1e-10) {  // keep the pair only where the curvature is positive
        if (st.old_dirs.size() == static_cast<std::size_t>(o.history_size)) {
          st.old_dirs.pop_front();
          st.old_stps.pop_front();
          st.ro.pop_front();
        }
        st.H_diag = ys / y.dot(y);
        st.old_dirs.push_back(std::move(y));
        st.old_stps.push_back(std::move(s));
        st.ro.push_back(1 / ys);
      }
      // The two-loop recursion: d = -H g.
      const std::size_t m = st.old_dirs.size();
      std::vector<double> al(m);
      Vec q = -g;
      for (std::size_t i = m; i-- > 0;) {
        al[i] = st.old_stps[i].dot(q) * st.ro[i];
        q -= al[i] * st.old_dirs[i];
      }
      st.d = q * st.H_diag;
      for (std::size_t i = 0; i < m; ++i) {
        const double be_i = st.old_dirs[i].dot(st.d) * st.ro[i];
        st.d += (al[i] - be_i) * st.old_stps[i];
      }
    }
    st.prev_flat_grad = g;
    st.prev_loss = loss;
    st.t = st.n_iter == 1 ? std::min(1.0, 1.0 / g.cwiseAbs().sum()) * o.lr : o.lr;
    const double gtd = g.dot(st.d);
    if (gtd > -o.tolerance_change) break;  // not a descent direction

    std::int64_t ls_evals = 0;
    if (o.line_search == LBFGSOptions::LineSearch::StrongWolfe) {
      const Vec x = gather_params(ps);
      Found found = strong_wolfe([&](double t) { return directional(x, t, st.d); }, st.t, st.d,
                                 loss, g, gtd, o.tolerance_change);
      loss = found.loss;
      g = std::move(found.grad);
      st.t = found.t;
      ls_evals = found.evals;
      add_to_params(ps, st.t, st.d);
      opt_cond = max_abs(g) <= o.tolerance_grad;
    } else {
      add_to_params(ps, st.t, st.d);
      if (n_iter != o.max_iter) {  // the last iteration's loss is the next step's first
        loss = evaluate(closure).item();
        g = gather_grad(ps);
        opt_cond = max_abs(g) <= o.tolerance_grad;
        ls_evals = 1;
      }
    }
    current_evals += ls_evals;
    st.func_evals += ls_evals;
    if (n_iter == o.max_iter || current_evals >= max_eval || opt_cond) break;
    // The step is too small: max |d t| (|t| max |d|, the same bits, without a temporary).
    if (std::abs(st.t) * max_abs(st.d) <= o.tolerance_change) break;
    if (std::abs(loss - st.prev_loss) < o.tolerance_change) break;
  }
  return orig_loss;
}

// ---- state ----
namespace {
Tensor vec_tensor(const Vec& v) {
  return from_vector(std::vector<double>(v.data(), v.data() + v.size()));
}
}  // namespace

void LBFGS::save_state(Archive& ar, const std::string& prefix) const {
  Optimizer::save_state(ar, prefix);
  const State& st = *s_;
  const std::string k = prefix + "lbfgs.";
  const auto put_int = [&](const std::string& name, std::int64_t v) {
    ar.put(k + name, scalar_tensor(static_cast<double>(v), {.dtype = kInt64}));
  };
  const auto put_double = [&](const std::string& name, double v) {
    ar.put(k + name, scalar_tensor(v, {.dtype = kFloat64}));
  };
  put_int("func_evals", st.func_evals);
  put_int("n_iter", st.n_iter);
  if (st.n_iter == 0) return;
  put_double("t", st.t);
  put_double("H_diag", st.H_diag);
  put_double("prev_loss", st.prev_loss);
  ar.put(k + "d", vec_tensor(st.d));
  ar.put(k + "prev_flat_grad", vec_tensor(st.prev_flat_grad));
  put_int("history", static_cast<std::int64_t>(st.old_dirs.size()));
  ar.put(k + "ro", from_vector(std::vector<double>(st.ro.begin(), st.ro.end())));
  for (std::size_t i = 0; i < st.old_dirs.size(); ++i) {
    ar.put(msg(k, "old_dirs.", i), vec_tensor(st.old_dirs[i]));
    ar.put(msg(k, "old_stps.", i), vec_tensor(st.old_stps[i]));
  }
}

std::unique_ptr<LBFGS::State> LBFGS::read(const Archive& ar, const std::string& prefix) const {
  const std::string k = prefix + "lbfgs.";
  const auto fail = [&](const std::string& what) {
    throw ValueError(msg("LBFGS: cannot load state: ", what));
  };
  const auto need = [&](const std::string& name) {
    if (!ar.is_tensor(k + name)) fail(msg("no '", k, name, "' entry"));
    return k + name;
  };
  const auto count = [&](const std::string& name) {
    const std::int64_t v = ar.get_int64(need(name));
    if (v < 0) fail(msg("entry '", k, name, "' is negative: ", v));
    if (v > kMaxCount) fail(msg("entry '", k, name, "' is ", v, "; at most 2^62 is a count"));
    return v;
  };
  const std::int64_t n = total_numel(params(0));
  const auto vector = [&](const std::string& name, std::int64_t size) {
    const Tensor t = ar.get(need(name));
    if (t.dim() != 1 || t.numel() != size)
      fail(
          msg("entry '", k, name, "' has shape ", shape_str(t.shape()), "; expected [", size, "]"));
    const auto v = t.to_vector<double>();
    return Vec(Eigen::Map<const Vec>(v.data(), static_cast<Eigen::Index>(v.size())));
  };
  auto st = std::make_unique<State>();
  st->func_evals = count("func_evals");
  st->n_iter = count("n_iter");
  if (st->n_iter == 0) return st;
  st->t = ar.get_double(need("t"));
  st->H_diag = ar.get_double(need("H_diag"));
  st->prev_loss = ar.get_double(need("prev_loss"));
  st->d = vector("d", n);
  st->prev_flat_grad = vector("prev_flat_grad", n);
  const std::int64_t m = count("history");
  if (m > options(0).history_size)
    fail(msg("entry '", k, "history' is ", m, "; history_size is ", options(0).history_size));
  const Vec ro = vector("ro", m);
  for (std::int64_t i = 0; i < m; ++i) {
    st->old_dirs.push_back(vector(msg("old_dirs.", i), n));
    st->old_stps.push_back(vector(msg("old_stps.", i), n));
    st->ro.push_back(ro[i]);
  }
  return st;
}

namespace {
// The base's loaded state and the iterations', applied together.
struct LoadedLBFGS : LoadedState {
  std::unique_ptr<LoadedState> base;
  std::unique_ptr<LBFGS::State> lbfgs;
};
}  // namespace

std::unique_ptr<LoadedState> LBFGS::read_state(const Archive& ar, const std::string& prefix) const {
  auto loaded = std::make_unique<LoadedLBFGS>();
  loaded->base = Optimizer::read_state(ar, prefix);
  loaded->lbfgs = read(ar, prefix);
  return loaded;
}

void LBFGS::apply_state(LoadedState& state) {
  auto& loaded = dynamic_cast<LoadedLBFGS&>(state);
  Optimizer::apply_state(*loaded.base);
  s_ = std::move(loaded.lbfgs);
}

}  // namespace tapegrad::optim
