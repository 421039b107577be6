// The MPI job a process belongs to: start and end it, who am I, how many are we. tapegrad::dist
// is built when CMake finds MPI (Debian: libopenmpi-dev); run programs with
// `mpiexec -n N program` (README: one machine, a hostfile, threads per rank).
#pragma once
#include <cstdint>
#include <functional>
#include <string>

namespace tapegrad::dist {

/// Starts MPI once per process (repeat calls do nothing). MPI errors abort every rank.
void init(int& argc, char**& argv);
/// Ends MPI (after a barrier-free MPI_Finalize); later calls do nothing.
void finalize();
/// True between init() and finalize().
bool is_initialized();

/// RAII for init/finalize. When it is destroyed by an exception (one rank failed), it aborts
/// the whole job with the exception's rank instead of finalizing, so the other ranks stop
/// within seconds rather than wait forever in their next collective. While it lives, sharded
/// DataLoaders check before their first batch that every rank runs the same number of batches
/// an epoch (check_replica_batches), so uneven data stops the job at once instead of leaving
/// a rank waiting in a gradient reduction the others never start.
class Context {
 public:
  /// init(argc, argv), and installs check_replica_batches for sharded DataLoaders.
  Context(int& argc, char**& argv);
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

 private:
  std::function<void(std::int64_t)> previous_check_;
};

/// Gathers every rank's batches per epoch and throws ValueError naming each rank's count when
/// they differ (a collective: every rank must call it).
void check_replica_batches(std::int64_t batches_per_epoch);

/// This process's rank, 0 .. world_size() - 1 (0 and 1 when MPI is not initialized).
int rank();
/// Number of ranks in the job (1 when MPI is not initialized).
int world_size();
/// Waits until every rank has called it.
void barrier();
/// Ends every rank of the job: prints "rank R: why" on stderr and calls MPI_Abort(status).
[[noreturn]] void abort(const std::string& why, int status = 1);

}  // namespace tapegrad::dist
