// The MPI job a process belongs to: start and end it, who am I, how many are we. tapegrad::dist
// is built when CMake finds MPI (Debian: libopenmpi-dev); run programs with
// `mpiexec -n N program` (README: one machine, a hostfile, threads per rank).
#pragma once
#include <string>

namespace tapegrad::dist {

/// Starts MPI once per process (repeat calls do nothing). MPI errors abort every rank.
void init(int& argc, char**& argv);
/// Ends MPI (after a barrier-free MPI_Finalize); later calls do nothing.
void finalize();
bool is_initialized();

/// RAII for init/finalize. When it is destroyed by an exception (one rank failed), it aborts
/// the whole job with the exception's rank instead of finalizing, so the other ranks stop
/// within seconds rather than wait forever in their next collective.
class Context {
 public:
  Context(int& argc, char**& argv);
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;
};

/// This process's rank, 0 .. world_size() - 1 (0 and 1 when MPI is not initialized).
int rank();
int world_size();
/// Waits until every rank has called it.
void barrier();
/// Ends every rank of the job: prints "rank R: why" on stderr and calls MPI_Abort(status).
[[noreturn]] void abort(const std::string& why, int status = 1);

}  // namespace tapegrad::dist
