// Runs the built `peft` binary and captures exit code, stdout and stderr.
#pragma once
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "test_paths.h"

namespace peft::test {

struct CliResult {
  int exit_code = -1;
  std::string out, err;
};

inline std::string read_all(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// `args` is appended to the binary path as is (quote paths with spaces yourself).
inline CliResult run_peft(const std::string& args, const std::string& stdin_text = "") {
  namespace fs = std::filesystem;
  static int counter = 0;
  const std::string base =
      (fs::temp_directory_path() / ("peft_cli_" + std::to_string(getpid()) + "_" + std::to_string(counter++))).string();
  const std::string in = base + ".in", out = base + ".out", err = base + ".err";
  { std::ofstream(in, std::ios::binary) << stdin_text; }
  const std::string cmd = peft_binary() + " " + args + " <" + in + " >" + out + " 2>" + err;
  int status = std::system(cmd.c_str());
  CliResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_all(out);
  r.err = read_all(err);
  fs::remove(in);
  fs::remove(out);
  fs::remove(err);
  return r;
}

// `peft convert` of the shared llama2c stories260K checkpoint into the folder `out`.
inline CliResult convert_stories260k(const std::string& out) {
  return run_peft("convert --from llama2c --checkpoint " + shared_path("data/models/stories260K/stories260K.bin") +
                  " --tokenizer " + shared_path("data/models/stories260K/tok512.model") + " --out " + out);
}

// A fresh temporary folder removed at scope exit.
class TempDir {
 public:
  TempDir() {
    static int n = 0;
    path_ =
        (std::filesystem::temp_directory_path() / ("peft_test_" + std::to_string(getpid()) + "_" + std::to_string(n++)))
            .string();
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A command that must fail cleanly: non-zero exit, `needle` in its error, no failed check.
inline void expect_error(const CliResult& r, const std::string& needle) {
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find(needle), std::string::npos) << "stderr was: " << r.err;
  EXPECT_EQ(r.err.find("check failed"), std::string::npos) << "crashed instead of reporting: " << r.err;
}

}  // namespace peft::test
