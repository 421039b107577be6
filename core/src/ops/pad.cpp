// pad: every output coordinate along a padded dim maps to an input coordinate (or to none: the
// constant fill), one small table per dim; the output is then one gather through those tables
// and the gradient one scatter-add back through them.
#include "tapegrad/core/ops/pad.h"

#include <algorithm>

#include "autograd/tape.h"
#include "kernels/dispatch.h"
#include "ops/take.h"
#include "runtime/parallel_chunks.h"

namespace tapegrad {

const char* pad_mode_name(PadMode mode) {
  switch (mode) {
    case PadMode::Constant: return "constant";
    case PadMode::Reflect: return "reflect";
    case PadMode::Replicate: return "replicate";
    case PadMode::Circular: return "circular";
  }
  return "?";
}

namespace {
// x viewed as (outer, d1, ..., dk) with the padded dims last: per dim the output size, the
// input stride and the input coordinate of each output coordinate (-1: the fill value).
struct PadPlan {
  std::vector<std::int64_t> out_size, in_stride;
  std::vector<std::vector<std::int64_t>> map;
  std::int64_t rows() const {  // output rows: every dim but the last
    std::int64_t r = 1;
    for (std::size_t d = 0; d + 1 < out_size.size(); ++d) r *= out_size[d];
    return r;
  }
  std::int64_t row_len() const { return out_size.back(); }
  /// The input offset where output row `row` starts reading, or -1 when the row is all fill.
  std::int64_t row_base(std::int64_t row) const {
    std::int64_t base = 0;
    for (std::size_t d = out_size.size() - 1; d-- > 0;) {
      const std::int64_t i = map[d][static_cast<std::size_t>(row % out_size[d])];
      if (i < 0) return -1;
      base += i * in_stride[d];
      row /= out_size[d];
    }
    return base;
  }
};

std::int64_t source(PadMode mode, std::int64_t i, std::int64_t n) {
  switch (mode) {
    case PadMode::Constant: return i >= 0 && i < n ? i : -1;
    case PadMode::Reflect: return i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i;
    case PadMode::Replicate: return std::clamp<std::int64_t>(i, 0, n - 1);
    case PadMode::Circular: return ((i % n) + n) % n;
  }
  return -1;
}

PadPlan plan_pad(const Shape& shape, const std::vector<std::int64_t>& pads, PadMode mode) {
  const std::size_t rank = shape.size(), k = pads.size() / 2;
  const char* name = pad_mode_name(mode);
  if (pads.size() % 2 != 0)
    throw ValueError(
        msg("pad: pads must come in (left, right) pairs: got ", pads.size(), " values"));
  if (k > rank)
    throw ShapeError(msg("pad: ", pads.size(), " values pad ", k, " dims, but the input ",
                         shape_str(shape), " has ", rank));
  if (mode != PadMode::Constant) {
    if (k < 1 || k > 3 || (rank != k + 1 && rank != k + 2))
      throw ShapeError(msg("pad: ", name, " padding of ", k, " dims needs a ", k + 1, "-D or ",
                           k + 2, "-D input (unbatched or batched): got ", shape_str(shape)));
  }
  PadPlan p;
  p.out_size.push_back(1);  // the unpadded leading dims, merged
  for (std::size_t d = 0; d < rank - k; ++d) p.out_size[0] *= shape[d];
  std::vector<std::int64_t> in_size{p.out_size[0]};
  for (std::size_t d = rank - k; d < rank; ++d) {
    const std::size_t j = 2 * (rank - 1 - d);  // pads[j], pads[j + 1] pad dim d
    const std::int64_t n = shape[d], l = pads[j], r = pads[j + 1];
    std::int64_t size;
    if (__builtin_add_overflow(n, l, &size) || __builtin_add_overflow(size, r, &size))
      throw ValueError(
          msg("pad: dim ", d, " of size ", n, " padded by (", l, ", ", r, ") overflows int64"));
    if (mode == PadMode::Constant) {
      if (size < 0)
        throw ValueError(msg("pad: dim ", d, " of size ", n, " padded by (", l, ", ", r,
                             ") would have a negative size ", size));
    } else {
      if (l < 0 || r < 0)
        throw ValueError(msg("pad: ", name, " padding must be non-negative: got (", l, ", ", r,
                             ") for dim ", d));
      const bool fits = mode == PadMode::Reflect    ? l < n && r < n
                        : mode == PadMode::Circular ? l <= n && r <= n
                                                    : n > 0;
      if (!fits)
        throw ValueError(msg("pad: ", name, " padding (", l, ", ", r, ") does not fit dim ", d,
                             " of size ", n, " of the input ", shape_str(shape),
                             mode == PadMode::Reflect    ? " (each must be < the size)"
                             : mode == PadMode::Circular ? " (each must be <= the size)"
                                                         : " (the dim must not be empty)"));
    }
    p.out_size.push_back(size);
    in_size.push_back(n);
  }
  std::int64_t numel = 1;
  for (std::int64_t s : p.out_size) numel = checked_mul(numel, s, "pad: the output size");
  p.in_stride.assign(in_size.size(), 1);
  for (std::size_t d = in_size.size() - 1; d-- > 0;)
    p.in_stride[d] = p.in_stride[d + 1] * in_size[d + 1];
  // The tables, as long as the output dims: only when there is an output to fill.
  p.map.resize(p.out_size.size());
  if (numel > 0)
    for (std::size_t d = 0; d < p.out_size.size(); ++d) {
      const std::int64_t l = d == 0 ? 0 : pads[2 * (k - d)];
      for (std::int64_t o = 0; o < p.out_size[d]; ++o)
        p.map[d].push_back(d == 0 ? o : source(mode, o - l, in_size[d]));
    }
  return p;
}
}  // namespace

Tensor pad(const Tensor& x, const std::vector<std::int64_t>& pads, PadMode mode, double value) {
  const TensorImpl& ix = impl_of(x, "pad");
  if (mode != PadMode::Constant && value != 0)  // torch refuses a value it would not use
    throw ValueError(
        msg("pad: ", pad_mode_name(mode), " padding takes no fill value: got ", value));
  auto plan = std::make_shared<const PadPlan>(plan_pad(ix.shape, pads, mode));
  Shape out(ix.shape.begin(), ix.shape.end() - static_cast<std::ptrdiff_t>(pads.size() / 2));
  for (std::size_t d = 1; d < plan->out_size.size(); ++d) out.push_back(plan->out_size[d]);
  return dispatch_all(ix.dtype, [&]<typename T>() {
    const T fill = element_from_double<T>(value, "pad");
    ImplPtr y = make_impl(std::move(out), ix.dtype);
    const std::int64_t len = plan->row_len();
    const std::vector<std::int64_t>& last = plan->map.back();
    if (y->numel > 0)
      parallel_chunks(
          plan->rows(),
          [&](std::int64_t r0, std::int64_t r1) {
            for (std::int64_t r = r0; r < r1; ++r) {
              T* yr = y->data<T>() + r * len;
              const std::int64_t base = plan->row_base(r);
              for (std::int64_t j = 0; j < len; ++j) {
                const std::int64_t i = last[static_cast<std::size_t>(j)];
                yr[j] = base < 0 || i < 0 ? fill : ix.data<T>()[base + i];
              }
            }
          },
          len);
    // The recorded form: g added back at each output element's source (none for the fill).
    auto graph = [plan](GraphCtx& c) {
      if (!c.needs(0)) return;
      const Tensor g = c.grad_out();
      const std::int64_t len = plan->row_len();
      const std::vector<std::int64_t>& last = plan->map.back();
      auto off = std::make_shared<std::vector<std::int64_t>>(static_cast<std::size_t>(g.numel()));
      if (g.numel() > 0)
        for (std::int64_t r = 0; r < plan->rows(); ++r) {
          const std::int64_t base = plan->row_base(r);
          for (std::int64_t j = 0; j < len; ++j) {
            const std::int64_t i = last[static_cast<std::size_t>(j)];
            (*off)[static_cast<std::size_t>(r * len + j)] = base < 0 || i < 0 ? -1 : base + i;
          }
        }
      c.add(0, put_add_at(g, std::move(off), c.in(0).shape()));
    };
    return record("pad", std::move(y), {x},
                  WithGraph{[plan](BackwardCtx& c) {
                              TensorImpl* gx = c.grad_in(0);
                              if (!gx || c.grad_out().numel == 0) return;
                              const std::int64_t len = plan->row_len();
                              const std::vector<std::int64_t>& last = plan->map.back();
                              const T* g = c.grad_out().data<T>();
                              for (std::int64_t r = 0; r < plan->rows();
                                   ++r) {  // serial: copies share input elements
                                const std::int64_t base = plan->row_base(r);
                                if (base < 0) continue;
                                for (std::int64_t j = 0; j < len; ++j) {
                                  const std::int64_t i = last[static_cast<std::size_t>(j)];
                                  if (i >= 0) gx->data<T>()[base + i] += g[r * len + j];
                                }
                              }
                            },
                            std::move(graph)});
  });
}

}  // namespace tapegrad
