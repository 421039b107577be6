// CPU availability from Linux: the affinity mask, cgroup quotas and /proc/stat's tick counters.
#include "runtime/cpu_load.h"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <ctime>
#include <fstream>
#include <sstream>
#include <string>

namespace tapegrad::detail {

namespace {

std::vector<int> affinity_cpus() {
  std::vector<int> cpus;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0)
    for (int c = 0; c < CPU_SETSIZE; ++c)
      if (CPU_ISSET(c, &set)) cpus.push_back(c);
  return cpus;
}

std::string read_file(const char* path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return in ? s.str() : std::string();
}

// A quota of q microseconds per period p allows ceil(q / p) CPUs; nullopt for "max" / -1.
std::optional<int> quota_cpus(double quota, double period) {
  if (!(quota > 0) || !(period > 0)) return std::nullopt;
  return static_cast<int>(std::min(std::ceil(quota / period), 1e6));
}

std::optional<int> cgroup_cpus() {
  std::istringstream v2(read_file("/sys/fs/cgroup/cpu.max"));  // "max 100000" or "50000 100000"
  std::string quota;
  double period = 0;
  if (v2 >> quota >> period && quota != "max") return quota_cpus(std::atof(quota.c_str()), period);
  const std::string q1 = read_file("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"),
                    p1 = read_file("/sys/fs/cgroup/cpu/cpu.cfs_period_us");
  if (q1.empty() || p1.empty()) return std::nullopt;
  return quota_cpus(std::atof(q1.c_str()), std::atof(p1.c_str()));
}

std::int64_t clock_ns(clockid_t id) {
  timespec ts{};
  clock_gettime(id, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace

std::int64_t monotonic_ns() { return clock_ns(CLOCK_MONOTONIC); }

int allowed_cpus() {
  int n = static_cast<int>(affinity_cpus().size());
  if (n == 0) n = static_cast<int>(std::max(1L, sysconf(_SC_NPROCESSORS_ONLN)));
  if (const std::optional<int> q = cgroup_cpus()) n = std::min(n, *q);
  return std::max(n, 1);
}

std::optional<std::uint64_t> busy_ticks(std::string_view proc_stat, const std::vector<int>& cpus) {
  std::uint64_t busy = 0;
  bool found = false;
  while (!proc_stat.empty()) {
    const std::size_t eol = std::min(proc_stat.find('\n'), proc_stat.size());
    std::string_view line = proc_stat.substr(0, eol);
    proc_stat.remove_prefix(std::min(eol + 1, proc_stat.size()));
    if (!line.starts_with("cpu") || line.size() < 4 || line[3] < '0' || line[3] > '9') continue;
    line.remove_prefix(3);
    int cpu = -1;
    auto [p, ec] = std::from_chars(line.data(), line.data() + line.size(), cpu);
    if (ec != std::errc() || !std::binary_search(cpus.begin(), cpus.end(), cpu)) continue;
    // user nice system idle iowait irq softirq steal [guest guest_nice]: guest time is already
    // inside user and nice, and steal is time a hypervisor gave to someone else.
    const char* end = line.data() + line.size();
    for (int column = 0; column < 8; ++column) {
      while (p < end && *p == ' ') ++p;
      std::uint64_t v = 0;
      auto [q, e] = std::from_chars(p, end, v);
      if (e != std::errc()) break;
      p = q;
      if (column != 3 && column != 4) busy += v;
    }
    found = true;
  }
  if (!found) return std::nullopt;
  return busy;
}

int threads_for_load(int cap, int allowed, double others) {
  const double free = static_cast<double>(allowed) - std::max(others, 0.0);
  const double n = std::floor(free + 0.3);
  return static_cast<int>(std::clamp(n, 1.0, static_cast<double>(std::max(cap, 1))));
}

OthersLoad::OthersLoad() : cpus_(affinity_cpus()), ticks_per_s_(sysconf(_SC_CLK_TCK)) {
  last_ = read();
}

std::optional<OthersLoad::Reading> OthersLoad::read() const {
  if (ticks_per_s_ <= 0) return std::nullopt;
  const std::optional<std::uint64_t> busy = busy_ticks(read_file("/proc/stat"), cpus_);
  if (!busy) return std::nullopt;
  return Reading{clock_ns(CLOCK_MONOTONIC), clock_ns(CLOCK_PROCESS_CPUTIME_ID), *busy};
}

std::optional<double> OthersLoad::sample(std::int64_t window_ns) {
  if (!last_) return std::nullopt;
  if (clock_ns(CLOCK_MONOTONIC) - last_->wall_ns < window_ns) return std::nullopt;
  const std::optional<Reading> now = read();
  if (!now) return std::nullopt;
  const double wall = static_cast<double>(now->wall_ns - last_->wall_ns) * 1e-9;
  // A CPU going offline takes its counters with it.
  const double busy = now->busy < last_->busy ? 0.0
                                              : static_cast<double>(now->busy - last_->busy) /
                                                    static_cast<double>(ticks_per_s_);
  const double own = static_cast<double>(now->own_cpu_ns - last_->own_cpu_ns) * 1e-9;
  last_ = now;
  return std::max(0.0, (busy - own) / wall);
}

}  // namespace tapegrad::detail
