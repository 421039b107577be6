// How many threads a parallel region runs with. Work is always divided by thread_cap(), the
// count the user set; team_threads(), at most that, is how many threads run the pieces. So the
// thread count may follow the machine's load without changing a single bit of any result.
#pragma once

namespace tapegrad::detail {

/// The count of the calling thread's NumThreadsGuard, else the one set by set_num_threads, else
/// OpenMP's default capped by allowed_cpus().
int thread_cap();

/// Threads for the parallel region about to start: thread_cap(), lowered while other processes
/// keep this process's CPUs busy (unless adaptation is off). Also sets the calling thread's
/// OpenMP thread count to it, so a product OpenBLAS runs on this thread follows.
int team_threads();

/// For tests: from now on every parallel region runs on min(n, cap) threads, whatever the load
/// and adaptation say; 0 goes back to the usual rule.
void pin_team(int n);

/// True on a thread running a piece of split work (a ChunkScope is open) or inside an active
/// OpenMP region. Work started there runs whole on that thread: it is never split again, so it
/// divides the same way whether the pieces ran on a team or one after another.
bool nested();

/// Marks the calling thread as running a piece of split work while it lives.
class ChunkScope {
 public:
  ChunkScope();
  ~ChunkScope();
  ChunkScope(const ChunkScope&) = delete;
  ChunkScope& operator=(const ChunkScope&) = delete;

 private:
  bool outer_;
};

}  // namespace tapegrad::detail
