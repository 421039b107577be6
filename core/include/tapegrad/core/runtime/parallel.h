// Thread control: one number governs OpenMP's elementwise loops and the split matrix products.
#pragma once

namespace tapegrad {

/// Kernels use at most n threads from now on (n >= 1). Work is divided by n, so results depend
/// on n alone, never on how many threads actually ran (see set_thread_adaptation).
void set_num_threads(int n);
/// The count set, or by default OpenMP's (OMP_NUM_THREADS, else the CPUs this process may run
/// on), capped by a cgroup CPU quota.
int get_num_threads();

/// On by default: kernels run on no more threads than the CPUs this process may use, and on
/// fewer while other processes keep those CPUs busy (measured every 100 ms from /proc/stat). A
/// split op waits for its slowest thread, and a thread sharing a core with a busy process is often
/// the slowest: beside one busy loop on 2 cores, 2 fixed threads trained B1 about 3x slower than 1
/// thread. Off: every parallel op uses get_num_threads() threads. Either way the results are the
/// same.
void set_thread_adaptation(bool on);
/// Whether thread adaptation is on.
bool thread_adaptation();

/// Threads the next parallel op would run on right now (at most get_num_threads()).
int active_num_threads();

/// set_num_threads(n) for the calling thread alone, while the guard lives: the kernels this
/// thread starts divide their work by n and run on at most n threads, whatever other threads
/// use. A thread-parallel trainer gives each worker NumThreadsGuard(1), so that N workers keep N
/// cores busy instead of starting N teams. Guards nest; each restores what was in force before.
class NumThreadsGuard {
 public:
  /// ValueError when n < 1.
  explicit NumThreadsGuard(int n);
  ~NumThreadsGuard();
  NumThreadsGuard(const NumThreadsGuard&) = delete;
  NumThreadsGuard& operator=(const NumThreadsGuard&) = delete;

 private:
  int outer_;
};

}  // namespace tapegrad
