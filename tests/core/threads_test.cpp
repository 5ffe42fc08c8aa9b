// Thread count: the decision table, OMP_NUM_THREADS as a fixed choice, and the measurement
// seeing a busy process.
#include "core/threads.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace peft {
namespace {

TEST(Threads, FreeCoresTable) {
  struct Row {
    int cores;
    double others;
    int expected;
  };
  for (const Row& r :
       {Row{2, 0.0, 2}, Row{2, 0.3, 2}, Row{2, 0.49, 2}, Row{2, 0.5, 1}, Row{2, 1.0, 1}, Row{2, 1.6, 1}, Row{2, 2.0, 1},
        Row{2, 5.0, 1}, Row{2, -0.2, 2}, Row{16, 3.4, 13}, Row{16, 3.5, 12}, Row{1, 0.9, 1}}) {
    SCOPED_TRACE(std::to_string(r.cores) + " cores, others " + std::to_string(r.others));
    EXPECT_EQ(free_cores(r.cores, r.others), r.expected);
  }
}

// Restores OMP_NUM_THREADS and the thread count a test changed.
struct EnvGuard {
  std::string saved;
  bool had;
  int threads = num_threads();
  EnvGuard() {
    const char* v = std::getenv("OMP_NUM_THREADS");
    had = v != nullptr;
    if (had) saved = v;
  }
  ~EnvGuard() {
    if (had)
      setenv("OMP_NUM_THREADS", saved.c_str(), 1);
    else
      unsetenv("OMP_NUM_THREADS");
    set_num_threads(threads);
  }
};

TEST(Threads, FixedChoicesAreKept) {
  EnvGuard guard;
  set_num_threads(1);
  EXPECT_FALSE(threads_automatic());
  EXPECT_EQ(adapt_threads(), 1);
  setenv("OMP_NUM_THREADS", "1", 1);  // the user's fixed choice: never re-measured
  set_num_threads(0);
  EXPECT_FALSE(threads_automatic());
  unsetenv("OMP_NUM_THREADS");
  set_num_threads(0);
  EXPECT_TRUE(threads_automatic());
  EXPECT_EQ(num_threads(), available_cores());
}

// Processes spinning beside this one (one per core, so that they hold at least half a core
// even when ctest runs other tests beside this one) take a core away from the automatic count.
// (The other direction, a quiet machine giving every core back, cannot be asserted while ctest
// runs other tests.)
TEST(Threads, BusyNeighboursTakeACore) {
  if (available_cores() < 2) GTEST_SKIP() << "one core: nothing to give up";
  if (access("/proc/stat", R_OK) != 0) GTEST_SKIP() << "no /proc/stat: the count stays fixed";
  EnvGuard guard;
  unsetenv("OMP_NUM_THREADS");
  set_num_threads(0);
  ASSERT_TRUE(threads_automatic());
  std::vector<pid_t> children;
  for (int i = 0; i < available_cores(); ++i) {
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      volatile unsigned long x = 0;
      for (;;) x = x + 1;  // spins until killed
    }
    children.push_back(child);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  adapt_threads();  // too soon after set_num_threads: measures nothing yet
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  const int n = adapt_threads();
  for (pid_t child : children) {
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
  }
  EXPECT_LE(n, available_cores() - 1);
  EXPECT_GE(n, 1);
}

}  // namespace
}  // namespace peft
