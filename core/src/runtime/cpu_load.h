// How many CPUs this process may use and how busy other processes keep them, read from Linux
// (the affinity mask, the cgroup CPU quota, /proc/stat) so kernels can run on the cores that are
// actually free. Elsewhere the sampler reports nothing and the thread count stays as set.
#pragma once
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace tapegrad::detail {

/// CLOCK_MONOTONIC in nanoseconds (a vDSO read, no system call).
std::int64_t monotonic_ns();

/// CPUs in this process's affinity mask, capped by a cgroup CPU quota (v2 cpu.max or v1
/// cfs_quota_us / cfs_period_us, rounded up); at least 1.
int allowed_cpus();

/// Busy time (every /proc/stat column but idle and iowait, in clock ticks) summed over the
/// `cpuN` lines whose N is in `cpus`; nullopt when the text holds none of them.
std::optional<std::uint64_t> busy_ticks(std::string_view proc_stat, const std::vector<int>& cpus);

/// Kernel threads worth running when other processes used `others` CPUs' worth of time out of
/// `allowed`: a thread beyond the first needs most (0.7) of a free core, since an op waits for
/// its slowest thread. Between 1 and cap.
int threads_for_load(int cap, int allowed, double others);

/// Measures, over windows of wall time, the CPUs' worth of time that processes other than this
/// one spent on this process's CPUs: busy ticks from /proc/stat minus this process's own CPU
/// time. Not thread-safe: one caller at a time.
class OthersLoad {
 public:
  OthersLoad();
  /// The load since the previous reading, once at least `window_ns` of wall time has passed;
  /// nullopt before that, or when /proc/stat cannot be read.
  std::optional<double> sample(std::int64_t window_ns);

 private:
  struct Reading {
    std::int64_t wall_ns, own_cpu_ns;
    std::uint64_t busy;
  };
  std::optional<Reading> read() const;
  std::vector<int> cpus_;
  std::int64_t ticks_per_s_;
  std::optional<Reading> last_;
};

}  // namespace tapegrad::detail
