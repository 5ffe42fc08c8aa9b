// One OpenMP thread pool for everything (oneDNN uses the same runtime).
#pragma once

namespace peft {
// n <= 0 means all cores.
void set_num_threads(int n);
int num_threads();
// The cores this process may run on (its CPU affinity).
int available_cores();
}  // namespace peft
