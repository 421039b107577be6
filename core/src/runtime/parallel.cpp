// Thread control: the cap the user sets and the team that runs each parallel region, lowered
// while other processes keep the CPUs busy (team.h says why results do not change).
#include "tapegrad/core/runtime/parallel.h"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <mutex>

#include "runtime/cpu_load.h"
#include "runtime/team.h"
#include "tensor/check.h"

namespace tapegrad {

namespace {

// Long enough for /proc/stat's 10 ms ticks to resolve a core's worth of load, short enough that
// a 0.5 s epoch adapts within its first fifth.
constexpr std::int64_t kWindowNs = 100'000'000;

std::atomic<int> cap{0};  // 0: not yet read from OpenMP
std::atomic<bool> adaptive{true};
std::atomic<int> free_threads{1 << 20};  // the last sample's verdict, before the cap
std::atomic<int> pinned{0};

struct Sampler {
  std::mutex mutex;
  detail::OthersLoad load;
  int allowed = detail::allowed_cpus();
};
Sampler& sampler() {
  static Sampler s;
  return s;
}

thread_local bool in_chunk = false;  // a ChunkScope is open on this thread
thread_local int t_cap = 0;          // a NumThreadsGuard's count on this thread (0: none)

// Applies n to the calling thread's OpenMP count (a per-thread setting) when it changed.
int apply(int n) {
  thread_local int applied = 0;
  if (applied != n) {
    omp_set_num_threads(n);
    applied = n;
  }
  return n;
}

}  // namespace

namespace detail {

int thread_cap() {
  if (t_cap != 0) return t_cap;
  int n = cap.load(std::memory_order_relaxed);
  if (n == 0) {
    const int first = std::max(1, std::min(omp_get_max_threads(), sampler().allowed));
    cap.compare_exchange_strong(n, first);  // on failure n holds a count set meanwhile
    n = cap.load(std::memory_order_relaxed);
  }
  return n;
}

int team_threads() {
  const int c = thread_cap();
  if (const int p = pinned.load(std::memory_order_relaxed); p > 0) return apply(std::min(c, p));
  if (c == 1 || !adaptive.load(std::memory_order_relaxed)) return apply(c);
  thread_local std::int64_t next_check = 0;  // a clock read per region, a lock per window
  const std::int64_t t = detail::monotonic_ns();
  if (t >= next_check) {
    next_check = t + kWindowNs / 4;
    Sampler& s = sampler();
    if (std::unique_lock lock(s.mutex, std::try_to_lock); lock)
      if (const std::optional<double> others = s.load.sample(kWindowNs))
        free_threads.store(threads_for_load(s.allowed, s.allowed, *others),
                           std::memory_order_relaxed);
  }
  return apply(std::min(c, free_threads.load(std::memory_order_relaxed)));
}

void pin_team(int n) { pinned.store(std::max(n, 0)); }

bool nested() { return in_chunk || omp_in_parallel(); }

ChunkScope::ChunkScope() : outer_(in_chunk) { in_chunk = true; }
ChunkScope::~ChunkScope() { in_chunk = outer_; }

void run_chunks(std::int64_t n, std::int64_t cost,
                void (*chunk)(const void* fn, std::int64_t begin, std::int64_t end),
                const void* fn) {
  const std::int64_t pieces = std::min<std::int64_t>(n, thread_cap());
  std::int64_t size = (n + pieces - 1) / pieces;
  if (cost == 1) size = (size + 15) / 16 * 16;  // whole SIMD blocks for flat loops
  const std::int64_t chunks = (n + size - 1) / size;
  const int team = static_cast<int>(std::min<std::int64_t>(team_threads(), chunks));
#pragma omp parallel for schedule(dynamic, 1) num_threads(team) if (team > 1)
  for (std::int64_t k = 0; k < chunks; ++k) {
    const ChunkScope scope;
    chunk(fn, k * size, std::min(n, (k + 1) * size));
  }
}

}  // namespace detail

void set_num_threads(int n) {
  if (n < 1) throw ValueError(msg("set_num_threads: need at least 1 thread, got ", n));
  cap.store(n);
  detail::team_threads();
}

int get_num_threads() { return detail::thread_cap(); }

void set_thread_adaptation(bool on) { adaptive.store(on); }
bool thread_adaptation() { return adaptive.load(); }

int active_num_threads() { return detail::team_threads(); }

NumThreadsGuard::NumThreadsGuard(int n) : outer_(t_cap) {
  if (n < 1) throw ValueError(msg("NumThreadsGuard: need at least 1 thread, got ", n));
  t_cap = n;
  detail::team_threads();
}

NumThreadsGuard::~NumThreadsGuard() {
  t_cap = outer_;
  detail::team_threads();
}

}  // namespace tapegrad
