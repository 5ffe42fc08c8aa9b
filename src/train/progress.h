// Training feedback: a progress bar on stderr and metrics as JSON lines in the output folder.
#pragma once
#include <chrono>
#include <cstdio>
#include <string>

#include "core/status.h"
#include "io/json_file.h"

namespace peft {

// On a terminal the bar redraws in place; otherwise (CI, logs) one line per call of update().
class ProgressBar {
 public:
  explicit ProgressBar(int64_t total_steps);
  void update(int64_t step, double loss, double lr, double tokens_per_s);
  void note(const std::string& line);  // a line of its own (validation results, saves)
  void finish();

 private:
  int64_t total_;
  bool tty_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_;
};

// Appends one JSON object per line; every line is flushed, so a crash loses nothing written.
class MetricsLog {
 public:
  static Result<MetricsLog> open(const std::string& path, bool append);
  MetricsLog(MetricsLog&& other) noexcept : file_(other.file_), path_(std::move(other.path_)) { other.file_ = nullptr; }
  MetricsLog(const MetricsLog&) = delete;
  ~MetricsLog();
  Status write(const Json& record);

 private:
  MetricsLog(std::FILE* f, std::string path) : file_(f), path_(std::move(path)) {}
  std::FILE* file_ = nullptr;
  std::string path_;
};

}  // namespace peft
