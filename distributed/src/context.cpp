// The MPI job: start and end it, ranks, barrier, abort, and the check that sharded loaders
// run the same number of batches on every rank.
#include "tapegrad/distributed/context.h"

#include <mpi.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "tapegrad/core/detail/msg.h"
#include "tapegrad/core/errors.h"
#include "tapegrad/core/tensor.h"
#include "tapegrad/data/dataloader.h"
#include "tapegrad/distributed/collectives.h"

namespace tapegrad::dist {

bool is_initialized() {
  int init = 0, done = 0;
  MPI_Initialized(&init);
  MPI_Finalized(&done);
  return init && !done;
}

void init(int& argc, char**& argv) {
  int init = 0;
  MPI_Initialized(&init);
  if (init) return;
  // Only the thread that runs the training loop calls MPI (OpenMP threads never do).
  int provided = 0;
  if (MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
    throw StateError("dist::init: MPI_Init_thread failed");
  // MPI's default for MPI_COMM_WORLD already: an error in any call aborts every rank, so a
  // failure is never a hang.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
}

void finalize() {
  if (is_initialized()) MPI_Finalize();
}

Context::Context(int& argc, char**& argv) {
  init(argc, argv);
  previous_check_ = data::set_replica_check(check_replica_batches);
}

Context::~Context() {
  data::set_replica_check(std::move(previous_check_));
  if (std::uncaught_exceptions() > 0 && is_initialized())
    abort("an exception ended this rank; stopping every rank");
  finalize();
}

void check_replica_batches(std::int64_t batches) {
  if (!is_initialized() || world_size() == 1) return;
  const std::vector<std::int64_t> all =
      all_gather(from_vector(std::vector<std::int64_t>{batches})).to_vector<std::int64_t>();
  if (std::all_of(all.begin(), all.end(), [&](std::int64_t b) { return b == all[0]; })) return;
  std::string counts;
  for (std::size_t r = 0; r < all.size(); ++r)
    counts += msg(r ? ", " : "", "rank ", r, ": ", all[r], r ? "" : " batches an epoch");
  throw ValueError(msg("DataLoader: the ranks would run different numbers of batches (", counts,
                       "); data-parallel training takes the same steps on every rank: give "
                       "each rank the same number of samples (num_replicas shares one data set "
                       "evenly), or set drop_last so the counts match"));
}

int rank() {
  if (!is_initialized()) return 0;
  int r = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}

int world_size() {
  if (!is_initialized()) return 1;
  int n = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &n);
  return n;
}

void barrier() {
  if (is_initialized()) MPI_Barrier(MPI_COMM_WORLD);
}

void abort(const std::string& why, int status) {
  std::fprintf(stderr, "rank %d: %s\n", rank(), why.c_str());
  std::fflush(stderr);
  if (is_initialized()) MPI_Abort(MPI_COMM_WORLD, status);
  std::_Exit(status);
}

}  // namespace tapegrad::dist
