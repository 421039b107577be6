// tapegrad dtypes and reduce ops as MPI's.
#pragma once
#include <mpi.h>

#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/dtype.h"
#include "tapegrad/core/errors.h"
#include "tapegrad/dist/collectives.h"

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

/// MPI counts are int: a tensor past 2^31 - 1 elements is refused, naming the op.
inline int mpi_count(std::int64_t n, const char* op) {
  if (n > 2147483647)
    throw ValueError(msg(op, ": ", n, " elements is more than one MPI call takes (2^31 - 1)"));
  return static_cast<int>(n);
}

}  // namespace tapegrad::dist::detail
