// The peft processes the tests start run on a fixed thread count: all cores, as before the
// automatic count (core/threads.h). Tests that run the CLI twice and compare the outputs
// (a resumed run against an uninterrupted one, ...) need both runs on one count, and the
// automatic count follows the load of whatever ctest runs beside them.
#include <omp.h>

#include <cstdlib>
#include <string>

namespace {
const bool kFixedThreadsForChildren = [] {
  setenv("OMP_NUM_THREADS", std::to_string(omp_get_num_procs()).c_str(), /*overwrite=*/0);
  return true;
}();
}  // namespace
