// MPI behind dist/comm.h, or its one-process stand-in (PEFT_WITH_MPI unset, or no launcher).
#include "dist/comm.h"

#include <fmt/format.h>

#include <cstdlib>

#ifdef PEFT_WITH_MPI
#include <mpi.h>
#endif

namespace peft::dist {

namespace {
int g_rank = 0, g_size = 1;
[[maybe_unused]] bool g_mpi = false;  // MPI_Init was called

// What launchers set in the environment of the processes they start.
bool launched_by_mpi() {
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "SLURM_NTASKS"}) {
    const char* v = std::getenv(var);
    if (v && *v) return std::string(var) != "SLURM_NTASKS" || std::atoi(v) > 1;
  }
  return false;
}
}  // namespace

bool available() {
#ifdef PEFT_WITH_MPI
  return true;
#else
  return false;
#endif
}

void init(int* argc, char*** argv) {
#ifdef PEFT_WITH_MPI
  if (!launched_by_mpi()) return;
  MPI_Init(argc, argv);
  g_mpi = true;
  MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &g_size);
#else
  (void)argc;
  (void)argv;
  if (launched_by_mpi() && std::getenv("OMPI_COMM_WORLD_SIZE") && std::atoi(std::getenv("OMPI_COMM_WORLD_SIZE")) > 1) {
    std::fprintf(stderr,
                 "error: launched as one of several MPI processes, but this peft was built without MPI "
                 "(install libopenmpi-dev and rebuild: scripts/setup does)\n");
    std::exit(1);
  }
#endif
}

void finalize() {
#ifdef PEFT_WITH_MPI
  if (g_mpi) MPI_Finalize();
  g_mpi = false;
#endif
}

int rank() { return g_rank; }
int size() { return g_size; }
std::string rank_prefix() { return g_size > 1 ? fmt::format("rank {}: ", g_rank) : std::string(); }

#ifdef PEFT_WITH_MPI
namespace {
// MPI counts are ints: large buffers go in pieces.
template <typename T>
void allreduce_chunks(T* x, int64_t n, MPI_Datatype type) {
  constexpr int64_t kChunk = int64_t(1) << 30;
  for (int64_t off = 0; off < n; off += kChunk)
    MPI_Allreduce(MPI_IN_PLACE, x + off, int(std::min(kChunk, n - off)), type, MPI_SUM, MPI_COMM_WORLD);
}
}  // namespace
#endif

void allreduce_sum(float* x, int64_t n) {
#ifdef PEFT_WITH_MPI
  if (g_size > 1) allreduce_chunks(x, n, MPI_FLOAT);
#endif
}
void allreduce_sum(double* x, int64_t n) {
#ifdef PEFT_WITH_MPI
  if (g_size > 1) allreduce_chunks(x, n, MPI_DOUBLE);
#endif
}
void allreduce_sum(int64_t* x, int64_t n) {
#ifdef PEFT_WITH_MPI
  if (g_size > 1) allreduce_chunks(x, n, MPI_INT64_T);
#endif
}

Status agree(const Status& mine, const std::string& what) {
  if (g_size == 1) return mine;
  std::vector<int64_t> failed(static_cast<size_t>(g_size), 0);
  failed[size_t(g_rank)] = mine.is_ok() ? 0 : 1;
  allreduce_sum(failed.data(), g_size);
  if (!mine.is_ok()) return mine;
  std::string ranks;
  for (int r = 0; r < g_size; ++r)
    if (failed[size_t(r)]) ranks += (ranks.empty() ? "" : ", ") + std::to_string(r);
  if (ranks.empty()) return Status::ok();
  return Status::errorf("rank{} {} failed while {} (its error is above)",
                        ranks.find(',') == std::string::npos ? "" : "s", ranks, what);
}

std::vector<std::string> allgather(const std::string& mine) {
  if (g_size == 1) return {mine};
  std::vector<std::string> out(static_cast<size_t>(g_size));
#ifdef PEFT_WITH_MPI
  int len = int(mine.size());
  std::vector<int> lens(static_cast<size_t>(g_size)), offsets(static_cast<size_t>(g_size));
  MPI_Allgather(&len, 1, MPI_INT, lens.data(), 1, MPI_INT, MPI_COMM_WORLD);
  int total = 0;
  for (int r = 0; r < g_size; ++r) {
    offsets[size_t(r)] = total;
    total += lens[size_t(r)];
  }
  std::string all(size_t(total), '\0');
  MPI_Allgatherv(mine.data(), len, MPI_CHAR, all.data(), lens.data(), offsets.data(), MPI_CHAR, MPI_COMM_WORLD);
  for (int r = 0; r < g_size; ++r) out[size_t(r)] = all.substr(size_t(offsets[size_t(r)]), size_t(lens[size_t(r)]));
#endif
  return out;
}

void abort_job(int code) {
#ifdef PEFT_WITH_MPI
  if (g_mpi) MPI_Abort(MPI_COMM_WORLD, code);
#endif
  std::exit(code);
}

}  // namespace peft::dist
