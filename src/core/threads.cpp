// Thread count control: fixed, or the free cores measured from /proc/stat (see threads.h).
#include "core/threads.h"

#include <omp.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace peft {
namespace {

using Clock = std::chrono::steady_clock;

// A reading of the CPU time spent so far: by all cores of the affinity mask (busy ticks of
// /proc/stat) and by this process (getrusage), at one moment.
struct CpuReading {
  bool ok = false;
  double busy_s = 0;  // busy time of the mask's cores, every process together
  double own_s = 0;   // this process's user + system time
  Clock::time_point at;
};

CpuReading read_cpu() {
  CpuReading r;
  r.at = Clock::now();
  cpu_set_t mask;
  CPU_ZERO(&mask);
  if (sched_getaffinity(0, sizeof mask, &mask) != 0) return r;
  std::FILE* f = std::fopen("/proc/stat", "r");
  if (!f) return r;
  const double tick_s = 1.0 / double(sysconf(_SC_CLK_TCK));
  char line[512];
  unsigned long long busy_ticks = 0;
  bool any = false;
  while (std::fgets(line, sizeof line, f)) {
    if (std::strncmp(line, "cpu", 3) != 0) break;  // the cpu lines come first
    int cpu = -1;
    unsigned long long user = 0, nice = 0, sys = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
    // "cpu " is the sum of all cores; "cpuN" one core. Steal counts as busy: another guest of
    // the host held the core.
    if (std::sscanf(line, "cpu%d %llu %llu %llu %llu %llu %llu %llu %llu", &cpu, &user, &nice, &sys, &idle, &iowait,
                    &irq, &softirq, &steal) != 9)
      continue;
    if (cpu < 0 || cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, &mask)) continue;
    busy_ticks += user + nice + sys + irq + softirq + steal;
    any = true;
  }
  std::fclose(f);
  rusage ru{};
  if (!any || getrusage(RUSAGE_SELF, &ru) != 0) return r;
  r.busy_s = double(busy_ticks) * tick_s;
  r.own_s = double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + 1e-6 * double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
  r.ok = true;
  return r;
}

// /proc/stat counts in ticks (10 ms): a window much shorter than this misreads the load.
constexpr double kMinWindowS = 0.25;

struct State {
  std::mutex mu;
  bool automatic = false;
  CpuReading last;
} state;

}  // namespace

int free_cores(int cores, double others_busy) {
  const int taken = int(std::floor(std::max(0.0, others_busy) + 0.5));
  return std::clamp(cores - taken, 1, std::max(cores, 1));
}

void set_num_threads(int n) {
  std::lock_guard<std::mutex> lock(state.mu);
  state.automatic = false;
  if (n > 0) {
    omp_set_num_threads(n);
    return;
  }
  // OMP_NUM_THREADS is the user's fixed choice; the runtime has already read it.
  const char* env = std::getenv("OMP_NUM_THREADS");
  if (env && std::atoi(env) > 0) return;
  omp_set_num_threads(omp_get_num_procs());
  state.automatic = true;
  state.last = read_cpu();
}

int num_threads() { return omp_get_max_threads(); }
int available_cores() { return omp_get_num_procs(); }

bool threads_automatic() {
  std::lock_guard<std::mutex> lock(state.mu);
  return state.automatic;
}

int adapt_threads() {
  std::lock_guard<std::mutex> lock(state.mu);
  if (!state.automatic) return omp_get_max_threads();
  if (std::chrono::duration<double>(Clock::now() - state.last.at).count() < kMinWindowS) return omp_get_max_threads();
  const CpuReading now = read_cpu();
  const double wall = std::chrono::duration<double>(now.at - state.last.at).count();
  if (!now.ok || !state.last.ok) {
    state.last = now;
    return omp_get_max_threads();
  }
  const double others = ((now.busy_s - state.last.busy_s) - (now.own_s - state.last.own_s)) / wall;
  state.last = now;
  const int n = free_cores(omp_get_num_procs(), others);
  if (n != omp_get_max_threads()) omp_set_num_threads(n);
  return n;
}

}  // namespace peft
