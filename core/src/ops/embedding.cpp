// embedding: a lookup table's rows at integer indices. The forward copies rows (in parallel:
// scattered rows wait on memory); the backward adds each output row into its table row,
// serially, so that repeated indices accumulate without races.
#include <cstring>

#include "autograd/tape.h"
#include "kernels/dispatch.h"
#include "runtime/parallel_chunks.h"
#include "tapegrad/core/ops.h"
#include "tensor/check.h"

namespace tapegrad {

Tensor embedding(const Tensor& indices, const Tensor& weight,
                 std::optional<std::int64_t> padding_idx) {
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
  const std::int64_t* idx = ii.data<std::int64_t>();
  check_index_range("embedding", ii, V, msg(V, " embeddings"));
  Shape out = ii.shape;
  out.push_back(D);
  const std::int64_t n = ii.numel;
  return dispatch_float(iw.dtype, "embedding", [&]<typename T>() {
    ImplPtr y = make_impl(std::move(out), iw.dtype);
    parallel_chunks(
        n,
        [&](std::int64_t b, std::int64_t e) {
          for (std::int64_t j = b; j < e; ++j)
            std::memcpy(y->data<T>() + j * D, iw.data<T>() + idx[j] * D,
                        static_cast<std::size_t>(D) * sizeof(T));
        },
        D);
    return record("embedding", y, {weight, indices}, [n, D, skip](BackwardCtx& c) {
      TensorImpl* gw = c.grad_in(0);
      if (!gw) return;
      const std::int64_t* id = c.in(1).data<std::int64_t>();
      const T* g = c.grad_out().data<T>();
      for (std::int64_t j = 0; j < n; ++j)
        if (id[j] != skip)
          Eigen::Map<ArrayX<T>>(gw->data<T>() + id[j] * D, D) +=
              Eigen::Map<const ArrayX<T>>(g + j * D, D);
    });
  });
}

}  // namespace tapegrad
