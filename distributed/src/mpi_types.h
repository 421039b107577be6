// tapegrad dtypes and reduce ops as MPI's.
#pragma once
#include <mpi.h>

#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/dtype.h"
#include "tapegrad/core/errors.h"
#include "tapegrad/core/tensor.h"
#include "tapegrad/distributed/collectives.h"

namespace tapegrad::dist::detail {

inline MPI_Datatype mpi_type(Dtype d) {
  switch (d) {
    case kFloat32: return MPI_FLOAT;
    case kFloat64: return MPI_DOUBLE;
    case kInt64: return MPI_INT64_T;
  }
  throw ValueError(msg("dist: unsupported dtype ", dtype_name(d)));
}

inline MPI_Op mpi_op(ReduceOp op) {
  switch (op) {
    case ReduceOp::Sum:
    case ReduceOp::Mean: return MPI_SUM;
    case ReduceOp::Max: return MPI_MAX;
    case ReduceOp::Min: return MPI_MIN;
  }
  return MPI_SUM;
}

/// A tensor's storage as MPI takes it.
inline void* raw(const Tensor& t) {
  switch (t.dtype()) {
    case kFloat32: return t.data<float>();
    case kFloat64: return t.data<double>();
    case kInt64: return t.data<std::int64_t>();
  }
  return nullptr;
}

/// MPI counts are int: a tensor past 2^31 - 1 elements is refused, naming the op.
inline int mpi_count(std::int64_t n, const char* op) {
  if (n > 2147483647)
    throw ValueError(msg(op, ": ", n, " elements is more than one MPI call takes (2^31 - 1)"));
  return static_cast<int>(n);
}

}  // namespace tapegrad::dist::detail
