// Paths the build passes to the tests: ../shared, the peft binary, the source tree.
#pragma once
#include <cmath>
#include <cstdint>
#include <string>

namespace peft::test {

inline std::string shared_path(const std::string& rel) { return std::string(PEFT_SHARED_DIR) + "/" + rel; }
inline std::string fixture_path(const std::string& rel) { return shared_path("fixtures/" + rel); }
inline std::string peft_binary() { return PEFT_BINARY; }
// A fixture folder: ../shared/fixtures/<name> (transformers 4.31), or tests/fixtures/<name> for
// "local:<name>" (made here by tests/reference/ for what the shared set lacks).
inline std::string fixture_dir(const std::string& name) {
  if (name.rfind("local:", 0) == 0) return std::string(PEFT_SOURCE_DIR) + "/tests/fixtures/" + name.substr(6);
  return fixture_path(name);
}
// "local:qwen3" → "qwen3", for test names.
inline std::string fixture_name(const std::string& name) {
  return name.rfind("local:", 0) == 0 ? name.substr(6) : name;
}

inline double max_abs_diff(const float* a, const float* b, int64_t n) {
  double m = 0;
  for (int64_t i = 0; i < n; ++i) m = std::fmax(m, std::fabs(double(a[i]) - double(b[i])));
  return m;
}

}  // namespace peft::test
