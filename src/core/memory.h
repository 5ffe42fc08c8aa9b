// Process memory housekeeping, and what the machine can give before anything big is allocated.
#pragma once
#include <cstdint>
#include <string>

#include "core/status.h"

namespace peft {

// Returns the heap's free pages to the OS (glibc malloc_trim). Parsing a data set leaves
// many small freed blocks (JSON nodes, strings) that would otherwise stay in the resident
// set for the whole run; a no-op elsewhere.
void release_free_heap();

// Bytes this process can still get: MemAvailable (/proc/meminfo), lowered to the cgroup's
// memory limit minus its current usage where one is set. A large value when unknown.
int64_t available_memory_bytes();

// "needs X GiB, Y GiB available" — before an allocation of `bytes` for `what` (sizes come
// from files and flags: a config saying r = 1e9 must be an error, not a bad_alloc).
Status check_memory(int64_t bytes, const std::string& what);

// a · b, or -1 when the product of two non-negative sizes overflows int64.
int64_t checked_mul(int64_t a, int64_t b);

}  // namespace peft
