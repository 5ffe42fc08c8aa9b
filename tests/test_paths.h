// Paths the build passes to the tests: ../shared, the peft binary, the source tree.
#pragma once
#include <cmath>
#include <cstdint>
#include <string>

namespace peft::test {

inline std::string shared_path(const std::string& rel) { return std::string(PEFT_SHARED_DIR) + "/" + rel; }
inline std::string fixture_path(const std::string& rel) { return shared_path("fixtures/" + rel); }
inline std::string peft_binary() { return PEFT_BINARY; }

inline double max_abs_diff(const float* a, const float* b, int64_t n) {
  double m = 0;
  for (int64_t i = 0; i < n; ++i) m = std::fmax(m, std::fabs(double(a[i]) - double(b[i])));
  return m;
}

}  // namespace peft::test
