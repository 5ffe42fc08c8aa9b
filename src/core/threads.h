// One OpenMP thread pool for everything (oneDNN uses the same runtime), and how many threads
// it runs.
//
// Fixed: `--threads N`, or OMP_NUM_THREADS in the environment (per MPI rank, as OpenMP users
// expect). Automatic, the default: as many threads as the cores of this process's affinity
// mask that other processes leave free. A thread on a core another process holds stalls every
// barrier of every parallel region (measured in BENCHMARKS.md, "Shared machines": two threads
// beside one busy core ran at 0.33× the quiet speed, one thread at 0.57×), so the engine
// measures the other processes' CPU use from /proc/stat and re-measures between training
// steps and evaluation batches (adapt_threads).
#pragma once

namespace peft {

// n > 0: fixed at n threads. n == 0: OMP_NUM_THREADS if set, else automatic (all cores until
// the first measurement). n < 0 is rejected by the caller.
void set_num_threads(int n);
int num_threads();
// The cores this process may run on (its CPU affinity).
int available_cores();
// True when the count follows the machine's load (no --threads, no OMP_NUM_THREADS).
bool threads_automatic();

// In automatic mode, when at least a quarter second has passed since the last measurement:
// measure how many cores other processes kept busy since then and set the thread count to
// the free ones (at least one). Cheap (one read of /proc/stat); call it between steps.
// Returns the thread count in force.
int adapt_threads();

// The decision alone: `cores` in the affinity mask, `others_busy` cores' worth of CPU time
// that other processes used over the window (busy time / wall time). A core counts as taken
// once others use at least half of it.
int free_cores(int cores, double others_busy);

}  // namespace peft
