// Data parallelism over MPI: this process's rank in the job and the few collectives training
// and evaluation need. Without MPI in the build, or when not launched by mpirun/srun, it is
// one process (rank 0 of 1) and every collective is a no-op.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace peft::dist {

// Starts MPI when the environment says a launcher started this process (Open MPI's
// OMPI_COMM_WORLD_SIZE, PMI/PMIx, Slurm's srun) and the job has more than one rank; a plain
// `peft train` never touches MPI. Call once, first thing in main; finalize() before exit.
void init(int* argc, char*** argv);
void finalize();
// Whether this build can run multi-process (linked against MPI).
bool available();

int rank();
int size();
inline bool is_root() { return rank() == 0; }
// "rank 1: " in a job of several processes, "" in one.
std::string rank_prefix();

// In-place element-wise sums over all ranks: every rank ends with the same values.
void allreduce_sum(float* x, int64_t n);
void allreduce_sum(double* x, int64_t n);
void allreduce_sum(int64_t* x, int64_t n);

// Whether every rank got this far: a rank whose `mine` failed keeps its own error (and
// prints it, naming its rank); the others get "rank(s) R failed while <what>" — so all ranks
// exit non-zero together instead of the healthy ones waiting forever in the next collective.
Status agree(const Status& mine, const std::string& what);

// Each rank's text, gathered at every rank in rank order.
std::vector<std::string> allgather(const std::string& mine);

// Ends the whole job now (a rank that cannot go on while the others wait in a collective).
[[noreturn]] void abort_job(int code);

}  // namespace peft::dist
