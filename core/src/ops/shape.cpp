// Shape ops: reshape/view (share storage), flatten, unsqueeze/squeeze, expand/broadcast_to and
// repeat, slice/narrow and split/chunk, index_select (row selection). gather, cat/stack and
// permute/flip have files of their own.
// A tensor cut along dim is seen as (outer, n, inner): rows of `inner` contiguous elements.
#include <algorithm>
#include <cstring>

#include "autograd/tape.h"
#include "kernels/broadcast.h"
#include "kernels/dispatch.h"
#include "kernels/layout.h"
#include "ops/take.h"
#include "runtime/parallel_chunks.h"
#include "tapegrad/core/ops.h"
#include "tensor/check.h"

namespace tapegrad {

namespace {
// Resolves one -1 in `want` and checks the element count.
Shape infer_shape(const char* op, const Shape& have, const Shape& want) {
  Shape s = want;
  std::int64_t infer = -1;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == -1) {
      if (infer >= 0) throw ShapeError(msg(op, ": only one size may be -1: got ", shape_str(want)));
      infer = static_cast<std::int64_t>(i);
    } else if (s[i] < 0) {
      throw ShapeError(msg(op, ": negative size in ", shape_str(want)));
    }
  }
  const std::int64_t n = shape_numel(have);
  if (infer >= 0) s[infer] = 1;
  const std::int64_t known = shape_numel(s);  // checked: a wrapped product could match n
  if (infer >= 0 && known != 0 && n % known == 0) s[infer] = n / known;
  if (shape_numel(s) != n || (infer >= 0 && known == 0))
    throw ShapeError(
        msg(op, ": cannot view ", shape_str(have), " (", n, " elements) as ", shape_str(want)));
  return s;
}

}  // namespace

// y = the same storage under another shape.   gx = g, element for element.
Tensor reshape(const Tensor& x, const Shape& shape) {
  const TensorImpl& ix = impl_of(x, "reshape");
  ImplPtr y = alias_impl(ix, infer_shape("reshape", ix.shape, shape));
  return record("reshape", std::move(y), {x},
                WithGraph{[](BackwardCtx& c) {
                            if (TensorImpl* gx = c.grad_in(0)) add_into(*gx, c.grad_out());
                          },
                          [](GraphCtx& c) {
                            if (c.needs(0)) c.add(0, reshape(c.grad_out(), c.in(0).shape()));
                          }});
}
Tensor view(const Tensor& x, const Shape& shape) { return reshape(x, shape); }

Tensor flatten(const Tensor& x, std::int64_t start_dim, std::int64_t end_dim) {
  const Shape& s = impl_of(x, "flatten").shape;
  if (s.empty()) return reshape(x, {1});
  const auto r = static_cast<std::int64_t>(s.size());
  start_dim = normalize_dim("flatten", start_dim, r);
  end_dim = normalize_dim("flatten", end_dim, r);
  if (start_dim > end_dim)
    throw ValueError(msg("flatten: start_dim ", start_dim, " is after end_dim ", end_dim));
  Shape out(s.begin(), s.begin() + start_dim);
  out.push_back(shape_numel(Shape(s.begin() + start_dim, s.begin() + end_dim + 1)));
  out.insert(out.end(), s.begin() + end_dim + 1, s.end());
  return reshape(x, out);
}

Tensor unsqueeze(const Tensor& x, std::int64_t dim) {
  Shape s = impl_of(x, "unsqueeze").shape;
  dim = normalize_dim("unsqueeze", dim, static_cast<std::int64_t>(s.size()) + 1);
  s.insert(s.begin() + dim, 1);
  return reshape(x, s);
}

Tensor squeeze(const Tensor& x) {
  Shape s = impl_of(x, "squeeze").shape;
  erase(s, 1);
  return reshape(x, s);
}

Tensor squeeze(const Tensor& x, std::int64_t dim) {
  Shape s = impl_of(x, "squeeze").shape;
  dim = normalize_dim("squeeze", dim, static_cast<std::int64_t>(s.size()));
  if (s.empty() || s[dim] != 1) return reshape(x, s);  // as torch: a size other than 1 stays
  s.erase(s.begin() + dim);
  return reshape(x, s);
}

// y = x broadcast to shape (-1 keeps a size; new dims lead).   gx = g summed back to x's shape.
Tensor expand(const Tensor& x, const Shape& shape) {
  const TensorImpl& ix = impl_of(x, "expand");
  const std::size_t r = ix.shape.size();
  if (shape.size() < r)
    throw ShapeError(msg("expand: the target ", shape_str(shape), " has fewer dims than the input ",
                         shape_str(ix.shape)));
  const std::size_t lead = shape.size() - r;
  Shape out = shape;
  for (std::size_t d = 0; d < out.size(); ++d) {
    const bool old = d >= lead;
    if (out[d] == -1 && old) out[d] = ix.shape[d - lead];
    if (out[d] < 0)
      throw ShapeError(msg("expand: size ", out[d], " at dim ", d, " of ", shape_str(shape),
                           old ? " is negative" : " is not allowed in a new leading dim"));
    if (old && ix.shape[d - lead] != 1 && ix.shape[d - lead] != out[d])
      throw ShapeError(msg("expand: the input ", shape_str(ix.shape), " cannot expand to ",
                           shape_str(shape), ": size ", ix.shape[d - lead], " at dim ", d - lead,
                           " is neither 1 nor ", out[d]));
  }
  shape_numel(out);  // throws if the element count overflows
  return dispatch_all(ix.dtype, [&]<typename T>() {
    ImplPtr y = make_zeros(out, ix.dtype);
    expand_into(y->data<T>(), out, ix.data<T>(), ix.shape);
    return record("expand", std::move(y), {x},
                  WithGraph{[](BackwardCtx& c) {
                              if (TensorImpl* gx = c.grad_in(0)) add_into(*gx, c.grad_out());
                            },
                            [](GraphCtx& c) {
                              if (c.needs(0)) c.add(0, sum_to(c.grad_out(), c.in(0).shape()));
                            }});
  });
}
Tensor broadcast_to(const Tensor& x, const Shape& shape) { return expand(x, shape); }

// Tiling: x (padded with leading 1s to repeats' length) seen as (1, s0, 1, s1, ...), expanded to
// (r0, s0, r1, s1, ...) and merged to (r0 s0, r1 s1, ...). The gradient comes through expand.
Tensor repeat(const Tensor& x, const std::vector<std::int64_t>& repeats) {
  const Shape& s = impl_of(x, "repeat").shape;
  if (repeats.size() < s.size())
    throw ShapeError(msg("repeat: ", repeats.size(), " repeats given for a tensor of rank ",
                         s.size(), " (at least one per dim)"));
  const std::size_t lead = repeats.size() - s.size();
  Shape spread, tiled, out;
  for (std::size_t d = 0; d < repeats.size(); ++d) {
    if (repeats[d] < 0)
      throw ValueError(
          msg("repeat: repeats must be non-negative, got ", repeats[d], " at dim ", d));
    const std::int64_t n = d < lead ? 1 : s[d - lead];
    spread.insert(spread.end(), {1, n});
    tiled.insert(tiled.end(), {repeats[d], n});
    out.push_back(checked_mul(repeats[d], n, "repeat: the result's size"));
  }
  return reshape(expand(reshape(x, spread), tiled), out);
}

namespace {
// slice's gradient as an op of its own (torch's slice_backward), for create_graph: y = 0 of
// shape, y[o, start + j step, i] = g[o, j, i] (start, end and step already normalised). Its
// own gradient is the slice again.
Tensor slice_scatter(const Tensor& g, const Shape& shape, std::int64_t dim, std::int64_t start,
                     std::int64_t end, std::int64_t step) {
  const TensorImpl& ig = impl_of(g, "slice_backward");
  const Split3 s = split_at(shape, dim);
  const std::int64_t len = ig.shape[dim];
  return dispatch_all(ig.dtype, [&]<typename T>() {
    ImplPtr y = make_zeros(shape, ig.dtype);
    for (std::int64_t o = 0; o < s.outer; ++o)
      for (std::int64_t j = 0; j < len; ++j)
        std::memcpy(y->data<T>() + (o * s.n + start + j * step) * s.inner,
                    ig.data<T>() + (o * len + j) * s.inner, s.inner * sizeof(T));
    return record(
        "slice_backward", std::move(y), {g},
        WithGraph{[s, len, start, step](BackwardCtx& c) {
                    TensorImpl* gg = c.grad_in(0);
                    if (!gg) return;
                    for (std::int64_t o = 0; o < s.outer; ++o)
                      for (std::int64_t j = 0; j < len; ++j)
                        Eigen::Map<ArrayX<T>>(gg->data<T>() + (o * len + j) * s.inner, s.inner) +=
                            Eigen::Map<const ArrayX<T>>(
                                c.grad_out().data<T>() + (o * s.n + start + j * step) * s.inner,
                                s.inner);
                  },
                  [dim, start, end, step](GraphCtx& c) {
                    if (c.needs(0)) c.add(0, slice(c.grad_out(), dim, start, end, step));
                  }});
  });
}
}  // namespace

// y[o, j, i] = x[o, start + j step, i].   gx[o, start + j step, i] += g[o, j, i].
Tensor slice(const Tensor& x, std::int64_t dim, std::int64_t start, std::int64_t end,
             std::int64_t step) {
  const TensorImpl& ix = impl_of(x, "slice");
  if (ix.shape.empty()) throw ShapeError("slice: cannot slice a 0-d tensor");
  dim = normalize_dim("slice", dim, ix.shape.size());
  if (step <= 0) throw ValueError(msg("slice: step must be positive, got ", step));
  const std::int64_t n = ix.shape[dim];
  // Python's rules: negative bounds count from the end, then clamp to [0, n].
  auto clampi = [n](std::int64_t v) { return std::clamp<std::int64_t>(v < 0 ? v + n : v, 0, n); };
  start = clampi(start);
  end = std::max(start, clampi(end));
  const std::int64_t len = (end - start + step - 1) / step;
  const Split3 s = split_at(ix.shape, dim);
  Shape out = ix.shape;
  out[dim] = len;
  return dispatch_all(ix.dtype, [&]<typename T>() {
    ImplPtr y = make_impl(std::move(out), ix.dtype);
    for (std::int64_t o = 0; o < s.outer; ++o)
      for (std::int64_t j = 0; j < len; ++j)
        std::memcpy(y->data<T>() + (o * len + j) * s.inner,
                    ix.data<T>() + (o * s.n + start + j * step) * s.inner, s.inner * sizeof(T));
    auto graph = [dim, start, end, step](GraphCtx& c) {
      if (c.needs(0)) c.add(0, slice_scatter(c.grad_out(), c.in(0).shape(), dim, start, end, step));
    };
    return record(
        "slice", std::move(y), {x},
        WithGraph{[s, len, start, step](BackwardCtx& c) {
                    TensorImpl* gx = c.grad_in(0);
                    if (!gx) return;
                    for (std::int64_t o = 0; o < s.outer; ++o)
                      for (std::int64_t j = 0; j < len; ++j)
                        Eigen::Map<ArrayX<T>>(
                            gx->data<T>() + (o * s.n + start + j * step) * s.inner, s.inner) +=
                            Eigen::Map<const ArrayX<T>>(
                                c.grad_out().data<T>() + (o * len + j) * s.inner, s.inner);
                  },
                  std::move(graph)});
  });
}

Tensor narrow(const Tensor& x, std::int64_t dim, std::int64_t start, std::int64_t length) {
  const TensorImpl& ix = impl_of(x, "narrow");
  if (ix.shape.empty()) throw ShapeError("narrow: cannot narrow a 0-d tensor");
  const std::int64_t n = ix.shape[normalize_dim("narrow", dim, ix.shape.size())];
  const std::int64_t s = start < 0 ? start + n : start;
  // length > n - s, not s + length > n: the sum overflows for a length near INT64_MAX.
  if (s < 0 || s > n || length < 0 || length > n - s)
    throw ValueError(msg("narrow: [", start, ", ", start, " + ", length,
                         ") is out of range for dim ", dim, " of size ", n));
  return slice(x, dim, s, s + length, 1);
}

std::vector<Tensor> split(const Tensor& x, std::int64_t split_size, std::int64_t dim) {
  const Shape& s = impl_of(x, "split").shape;
  if (s.empty()) throw ShapeError("split: cannot split a 0-d tensor");
  dim = normalize_dim("split", dim, static_cast<std::int64_t>(s.size()));
  const std::int64_t n = s[dim];
  if (split_size < 0 || (split_size == 0 && n != 0))
    throw ValueError(msg("split: split_size must be positive (0 only for a dim of size 0), got ",
                         split_size, " for dim ", dim, " of size ", n));
  if (n == 0) return {narrow(x, dim, 0, 0)};
  std::vector<Tensor> parts;
  for (std::int64_t start = 0; start < n; start += std::min(split_size, n - start))
    parts.push_back(narrow(x, dim, start, std::min(split_size, n - start)));
  return parts;
}

std::vector<Tensor> split(const Tensor& x, const std::vector<std::int64_t>& sizes,
                          std::int64_t dim) {
  const Shape& s = impl_of(x, "split").shape;
  if (s.empty()) throw ShapeError("split: cannot split a 0-d tensor");
  dim = normalize_dim("split", dim, static_cast<std::int64_t>(s.size()));
  std::int64_t total = 0;
  for (const std::int64_t k : sizes) {
    if (k < 0) throw ValueError(msg("split: sizes must be non-negative, got ", k));
    total = checked_add(total, k, "split: the sizes' sum");
  }
  if (total != s[dim])
    throw ValueError(
        msg("split: the sizes sum to ", total, " but dim ", dim, " has size ", s[dim]));
  std::vector<Tensor> parts;
  std::int64_t start = 0;
  for (const std::int64_t k : sizes) {
    parts.push_back(narrow(x, dim, start, k));
    start += k;
  }
  return parts;
}

std::vector<Tensor> chunk(const Tensor& x, std::int64_t chunks, std::int64_t dim) {
  const Shape& s = impl_of(x, "chunk").shape;
  if (chunks <= 0) throw ValueError(msg("chunk: chunks must be positive, got ", chunks));
  if (s.empty()) throw ShapeError("chunk: cannot chunk a 0-d tensor");
  const std::int64_t n = s[normalize_dim("chunk", dim, static_cast<std::int64_t>(s.size()))];
  if (n == 0) return std::vector<Tensor>(static_cast<std::size_t>(chunks), narrow(x, dim, 0, 0));
  return split(x, n / chunks + (n % chunks != 0), dim);  // as torch: ceil(n / chunks) each
}

// y[o, j, i] = x[o, index[j], i].   gx[o, index[j], i] += g[o, j, i] (repeats accumulate).
Tensor index_select(const Tensor& x, std::int64_t dim, const Tensor& index) {
  const TensorImpl& ix = impl_of(x, "index_select");
  const TensorImpl& ii = impl_of(index, "index_select");
  check_index_dtype("index_select", "index", ii);
  if (ii.shape.size() > 1)
    throw ShapeError(msg("index_select: index must be 1-D: got shape ", shape_str(ii.shape)));
  if (ix.shape.empty()) throw ShapeError("index_select: cannot index a 0-d tensor");
  dim = normalize_dim("index_select", dim, ix.shape.size());
  const Split3 s = split_at(ix.shape, dim);
  const std::int64_t* idx = ii.data<std::int64_t>();
  check_index_range("index_select", ii, s.n, msg("dim ", dim, " of size ", s.n));
  Shape out = ix.shape;
  out[dim] = ii.numel;
  const std::int64_t m = ii.numel;
  return dispatch_all(ix.dtype, [&]<typename T>() {
    ImplPtr y = make_impl(std::move(out), ix.dtype);
    // Rows picked at random from a big tensor (a shuffled batch) wait on memory: two threads
    // copying them overlap those waits.
    parallel_chunks(
        s.outer * m,
        [&](std::int64_t begin, std::int64_t end) {
          for (std::int64_t r = begin; r < end; ++r)
            std::memcpy(y->data<T>() + r * s.inner,
                        ix.data<T>() + (r / m * s.n + idx[r % m]) * s.inner, s.inner * sizeof(T));
        },
        s.inner);
    return record("index_select", std::move(y), {x, index},
                  WithGraph{[s, m](BackwardCtx& c) {
                              TensorImpl* gx = c.grad_in(0);
                              if (!gx) return;
                              const std::int64_t* id = c.in(1).data<std::int64_t>();
                              for (std::int64_t o = 0; o < s.outer; ++o)
                                for (std::int64_t j = 0; j < m; ++j)
                                  Eigen::Map<ArrayX<T>>(gx->data<T>() + (o * s.n + id[j]) * s.inner,
                                                        s.inner) +=
                                      Eigen::Map<const ArrayX<T>>(
                                          c.grad_out().data<T>() + (o * m + j) * s.inner, s.inner);
                            },
                            [s, m](GraphCtx& c) {
                              if (!c.needs(0)) return;
                              // Every output element's source, row by row: (o, idx[j], i).
                              auto off = std::make_shared<std::vector<std::int64_t>>();
                              off->reserve(static_cast<std::size_t>(s.outer * m * s.inner));
                              const Tensor index = c.in(1);
                              const std::int64_t* id =
                                  impl_of(index, "index_select").data<std::int64_t>();
                              for (std::int64_t o = 0; o < s.outer; ++o)
                                for (std::int64_t j = 0; j < m; ++j)
                                  for (std::int64_t i = 0; i < s.inner; ++i)
                                    off->push_back((o * s.n + id[j]) * s.inner + i);
                              c.add(0, put_add_at(c.grad_out(), std::move(off), c.in(0).shape()));
                            }});
  });
}

}  // namespace tapegrad
