// embedding: a lookup table's rows at integer indices. The forward copies rows (in parallel:
// scattered rows wait on memory); the backward adds each output row into its table row,
// serially, so that repeated indices accumulate without races.
#include <cmath>
#include <cstring>
#include <vector>

#include "autograd/tape.h"
#include "kernels/dispatch.h"
#include "ops/take.h"
#include "runtime/parallel_chunks.h"
#include "tapegrad/core/ops.h"
#include "tensor/check.h"

namespace tapegrad {

namespace {
// torch's embedding_renorm_: each distinct row named by idx whose p-norm exceeds max_norm is
// scaled by max_norm / (norm + 1e-7), in place.
template <typename T>
void renorm_rows(T* w, std::int64_t V, std::int64_t D, const std::int64_t* idx, std::int64_t n,
                 double max_norm, double p) {
  std::vector<unsigned char> seen(static_cast<std::size_t>(V), 0);
  for (std::int64_t j = 0; j < n; ++j) {
    if (seen[static_cast<std::size_t>(idx[j])]++) continue;
    Eigen::Map<ArrayX<T>> row(w + idx[j] * D, D);
    const double norm = std::isinf(p)
                            ? static_cast<double>(row.abs().maxCoeff())
                            : std::pow(row.abs().template cast<double>().pow(p).sum(), 1 / p);
    if (norm > max_norm) row *= static_cast<T>(max_norm / (norm + 1e-7));
  }
}
}  // namespace

Tensor embedding(const Tensor& indices, const Tensor& weight,
                 std::optional<std::int64_t> padding_idx, std::optional<double> max_norm,
                 double norm_type, bool scale_grad_by_freq) {
  const TensorImpl& ii = impl_of(indices, "embedding");
  const TensorImpl& iw = impl_of(weight, "embedding");
  check_index_dtype("embedding", "indices", ii);
  if (iw.shape.size() != 2)
    throw ShapeError(msg("embedding: weight must be (num_embeddings, embedding_dim): got ",
                         shape_str(iw.shape)));
  const std::int64_t V = iw.shape[0], D = iw.shape[1];
  std::int64_t skip = -1;  // the padding row, or none
  if (padding_idx) {
    if (*padding_idx < -V || *padding_idx >= V)
      throw ValueError(
          msg("embedding: padding_idx ", *padding_idx, " is out of range for ", V, " embeddings"));
    skip = *padding_idx < 0 ? *padding_idx + V : *padding_idx;
  }
  if (max_norm && !(std::isfinite(*max_norm) && *max_norm >= 0))
    throw ValueError(msg("embedding: max_norm must be finite and >= 0, got ", *max_norm));
  if (max_norm && !(norm_type > 0))
    throw ValueError(msg("embedding: norm_type must be > 0, got ", norm_type));
  const std::int64_t* idx = ii.data<std::int64_t>();
  check_index_range("embedding", ii, V, msg(V, " embeddings"));
  Shape out = ii.shape;
  out.push_back(D);
  const std::int64_t n = ii.numel;
  return dispatch_float(iw.dtype, "embedding", [&]<typename T>() {
    if (max_norm) {  // checked above, so the table changes only when the lookup will succeed
      renorm_rows(iw.data<T>(), V, D, idx, ii.numel, *max_norm, norm_type);
      mark_written(weight);
    }
    ImplPtr y = make_impl(std::move(out), iw.dtype);
    parallel_chunks(
        n,
        [&](std::int64_t b, std::int64_t e) {
          for (std::int64_t j = b; j < e; ++j)
            std::memcpy(y->data<T>() + j * D, iw.data<T>() + idx[j] * D,
                        static_cast<std::size_t>(D) * sizeof(T));
        },
        D);
    // The recorded form: weight's gradient is g (scaled per index) added into the named rows.
    auto graph = [n, D, skip, scale_grad_by_freq](GraphCtx& c) {
      if (!c.needs(0)) return;
      const Tensor ids = c.in(1);
      const std::int64_t* id = impl_of(ids, "embedding").data<std::int64_t>();
      const std::int64_t V = c.in(0).shape()[0];
      auto off = std::make_shared<std::vector<std::int64_t>>(static_cast<std::size_t>(n * D));
      for (std::int64_t j = 0; j < n; ++j)
        for (std::int64_t d = 0; d < D; ++d)
          (*off)[static_cast<std::size_t>(j * D + d)] = id[j] == skip ? -1 : id[j] * D + d;
      Tensor g = c.grad_out();
      // The scale is applied to the value only: as torch's double backward ("the first backward
      // takes care of scaling by frequency"), the derivative with respect to g is unscaled,
      // since differentiating on through the lookup scales once more.
      if (scale_grad_by_freq) {
        std::vector<T> count(static_cast<std::size_t>(V), T(0)), scale(static_cast<std::size_t>(n));
        for (std::int64_t j = 0; j < n; ++j) count[static_cast<std::size_t>(id[j])] += 1;
        for (std::int64_t j = 0; j < n; ++j)
          scale[static_cast<std::size_t>(j)] = T(1) / count[static_cast<std::size_t>(id[j])];
        Shape s = ids.shape();
        s.push_back(1);
        g = g + (g * (from_vector(scale, s) - 1.0)).detach();
      }
      c.add(0, put_add_at(g, std::move(off), c.in(0).shape()));
    };
    return record("embedding", std::move(y), {weight, indices},
                  WithGraph{[n, D, skip, scale_grad_by_freq](BackwardCtx& c) {
                              TensorImpl* gw = c.grad_in(0);
                              if (!gw) return;
                              const std::int64_t* id = c.in(1).data<std::int64_t>();
                              const T* g = c.grad_out().data<T>();
                              std::vector<std::int64_t> count;  // occurrences of each row's index
                              if (scale_grad_by_freq) {
                                count.assign(static_cast<std::size_t>(gw->shape[0]), 0);
                                for (std::int64_t j = 0; j < n; ++j)
                                  ++count[static_cast<std::size_t>(id[j])];
                              }
                              for (std::int64_t j = 0; j < n; ++j) {
                                if (id[j] == skip) continue;
                                auto gj = Eigen::Map<const ArrayX<T>>(g + j * D, D);
                                auto row = Eigen::Map<ArrayX<T>>(gw->data<T>() + id[j] * D, D);
                                if (scale_grad_by_freq)
                                  row +=
                                      gj / static_cast<T>(count[static_cast<std::size_t>(id[j])]);
                                else
                                  row += gj;
                              }
                            },
                            std::move(graph)});
  });
}

}  // namespace tapegrad
