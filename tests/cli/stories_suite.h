// A test suite sharing one converted stories260K (the real llama2.c model) in a temporary
// folder, with PEFT_SHARED_DIR set so commands find the default data files.
#pragma once
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/cli_runner.h"

namespace peft::test {

// Derive a fixture from it (gtest runs one suite at a time, so the statics serve each in turn).
class StoriesSuite : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    model_ = *dir_ / "stories260K";
    auto r = convert_stories260k(model_);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    setenv("PEFT_SHARED_DIR", PEFT_SHARED_DIR, 1);
  }
  // `n` instruction records {"Say i" -> "ok i"} as JSON Lines in the suite's folder.
  static std::string write_say_ok_data(const std::string& name, int n) {
    const std::string path = *dir_ / name;
    std::ofstream f(path);
    for (int i = 0; i < n; ++i)
      f << nlohmann::json{{"instruction", "Say " + std::to_string(i)}, {"output", "ok " + std::to_string(i)}}.dump()
        << "\n";
    return path;
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static inline TempDir* dir_ = nullptr;
  static inline std::string model_;
};

}  // namespace peft::test
