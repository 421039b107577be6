// Collectives: one MPI call each on the tensor's own storage (tensors are contiguous).
#include "tapegrad/distributed/collectives.h"

#include "mpi_types.h"
#include "tapegrad/distributed/context.h"

namespace tapegrad::dist {
namespace {
using detail::raw;

void require_mpi(const char* op) {
  if (!is_initialized())
    throw StateError(msg(op, ": MPI is not initialized (dist::init or a dist::Context first)"));
}

void require(const Tensor& t, const char* op) {
  if (!t.defined()) throw ValueError(msg(op, ": the tensor is undefined"));
  require_mpi(op);
}

void divide(const Tensor& t, int n) {
  if (t.dtype() == kFloat32)
    for (float *p = t.data<float>(), *e = p + t.numel(); p != e; ++p) *p /= static_cast<float>(n);
  else
    for (double *p = t.data<double>(), *e = p + t.numel(); p != e; ++p) *p /= n;
}
}  // namespace

void all_reduce(const Tensor& t, ReduceOp op) {
  require(t, "all_reduce");
  if (op == ReduceOp::Mean && t.dtype() == kInt64)
    throw ValueError("all_reduce: Mean of an int64 tensor; use Sum and divide as you mean to");
  MPI_Allreduce(MPI_IN_PLACE, raw(t), detail::mpi_count(t.numel(), "all_reduce"),
                detail::mpi_type(t.dtype()), detail::mpi_op(op), MPI_COMM_WORLD);
  if (op == ReduceOp::Mean) divide(t, world_size());
}

void all_reduce(std::span<double> values, ReduceOp op) {
  require_mpi("all_reduce");
  MPI_Allreduce(MPI_IN_PLACE, values.data(),
                detail::mpi_count(static_cast<std::int64_t>(values.size()), "all_reduce"),
                MPI_DOUBLE, detail::mpi_op(op), MPI_COMM_WORLD);
  if (op == ReduceOp::Mean)
    for (double& v : values) v /= world_size();
}

void broadcast(const Tensor& t, int root) {
  require(t, "broadcast");
  if (root < 0 || root >= world_size())
    throw ValueError(msg("broadcast: root ", root, " is not a rank of ", world_size()));
  MPI_Bcast(raw(t), detail::mpi_count(t.numel(), "broadcast"), detail::mpi_type(t.dtype()), root,
            MPI_COMM_WORLD);
}

Tensor all_gather(const Tensor& t) {
  require(t, "all_gather");
  Shape shape = t.shape();
  shape.insert(shape.begin(), world_size());
  Tensor out = zeros(shape, {.dtype = t.dtype()});
  const int n = detail::mpi_count(t.numel(), "all_gather");
  detail::mpi_count(out.numel(), "all_gather");
  MPI_Allgather(raw(t), n, detail::mpi_type(t.dtype()), raw(out), n, detail::mpi_type(t.dtype()),
                MPI_COMM_WORLD);
  return out;
}

Tensor reduce_scatter(const Tensor& t, ReduceOp op) {
  require(t, "reduce_scatter");
  const int w = world_size();
  if (t.dim() < 1 || t.size(0) % w != 0)
    throw ShapeError(msg("reduce_scatter: ", shape_str(t.shape()),
                         " does not split along dim 0 into ", w, " equal parts"));
  if (op == ReduceOp::Mean && t.dtype() == kInt64)
    throw ValueError("reduce_scatter: Mean of an int64 tensor; use Sum and divide as you mean to");
  Shape shape = t.shape();
  shape[0] /= w;
  Tensor out = zeros(shape, {.dtype = t.dtype()});
  MPI_Reduce_scatter_block(raw(t), raw(out), detail::mpi_count(out.numel(), "reduce_scatter"),
                           detail::mpi_type(t.dtype()), detail::mpi_op(op), MPI_COMM_WORLD);
  if (op == ReduceOp::Mean) divide(out, w);
  return out;
}

}  // namespace tapegrad::dist
