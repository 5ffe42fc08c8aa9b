// One OpenMP thread pool for everything (oneDNN uses the same runtime).
#pragma once

namespace peft {
// n <= 0 means all cores.
void set_num_threads(int n);
int num_threads();
}  // namespace peft
