// release_free_heap on glibc; available memory from /proc/meminfo and the cgroup.
#include "core/memory.h"

#include <fstream>
#include <limits>
#include <sstream>

#include <fmt/format.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace peft {

void release_free_heap() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

namespace {

// One integer from a file ("max" and unreadable files give `fallback`).
int64_t read_int(const std::string& path, int64_t fallback) {
  std::ifstream f(path);
  std::string s;
  if (!(f >> s) || s == "max") return fallback;
  try {
    return std::stoll(s);
  } catch (...) {
    return fallback;
  }
}

}  // namespace

int64_t available_memory_bytes() {
  constexpr int64_t kUnknown = std::numeric_limits<int64_t>::max() / 4;
  int64_t avail = kUnknown;
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  int64_t kb = 0;
  std::string unit;
  while (meminfo >> key >> kb >> unit)
    if (key == "MemAvailable:") avail = kb * 1024;
  // cgroup v2, then v1: a container's limit is what the kernel enforces.
  const int64_t limit2 = read_int("/sys/fs/cgroup/memory.max", kUnknown);
  if (limit2 < kUnknown) avail = std::min(avail, limit2 - read_int("/sys/fs/cgroup/memory.current", 0));
  const int64_t limit1 = read_int("/sys/fs/cgroup/memory/memory.limit_in_bytes", kUnknown);
  if (limit1 < kUnknown / 2)
    avail = std::min(avail, limit1 - read_int("/sys/fs/cgroup/memory/memory.usage_in_bytes", 0));
  return std::max<int64_t>(avail, 0);
}

Status check_memory(int64_t bytes, const std::string& what) {
  const int64_t avail = available_memory_bytes();
  if (bytes >= 0 && bytes <= avail) return Status::ok();
  constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
  if (bytes < 0) return Status::errorf("{} needs more memory than can be counted (sizes overflow)", what);
  return Status::errorf("{} needs {:.2f} GiB, {:.2f} GiB available", what, double(bytes) / kGiB, double(avail) / kGiB);
}

int64_t checked_mul(int64_t a, int64_t b) {
  if (a < 0 || b < 0) return -1;
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) return -1;
  return r;
}

}  // namespace peft
