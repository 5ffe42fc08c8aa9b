// Progress bar and metrics log.
#include "train/progress.h"

#include <unistd.h>
#include <cerrno>
#include <cstring>

namespace peft {

ProgressBar::ProgressBar(int64_t total_steps)
    : total_(total_steps), tty_(isatty(STDERR_FILENO) != 0), start_(std::chrono::steady_clock::now()) {}

void ProgressBar::update(int64_t step, double loss, double lr, double tokens_per_s) {
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double eta = step > 0 ? elapsed / double(step) * double(total_ - step) : 0.0;
  const int width = 24;
  const int filled = total_ > 0 ? int(double(width) * double(step) / double(total_)) : 0;
  std::string bar(size_t(filled), '#');
  bar.resize(size_t(width), '.');
  const int64_t e = int64_t(eta);
  std::fprintf(stderr, "%s[%s] step %lld/%lld  loss %.4f  lr %.2e  %.0f tok/s  ETA %02lld:%02lld:%02lld%s",
               tty_ ? "\r" : "", bar.c_str(), (long long)step, (long long)total_, loss, lr, tokens_per_s,
               (long long)(e / 3600), (long long)(e / 60 % 60), (long long)(e % 60), tty_ ? "" : "\n");
  drawn_ = tty_;
  std::fflush(stderr);
}

void ProgressBar::note(const std::string& line) {
  if (drawn_) std::fputc('\n', stderr);
  drawn_ = false;
  std::fprintf(stderr, "%s\n", line.c_str());
}

void ProgressBar::finish() {
  if (drawn_) std::fputc('\n', stderr);
  drawn_ = false;
}

Result<MetricsLog> MetricsLog::open(const std::string& path, bool append) {
  std::FILE* f = std::fopen(path.c_str(), append ? "a" : "w");
  if (!f) return Status::errorf("{}: cannot open for writing ({})", path, std::strerror(errno));
  return MetricsLog(f, path);
}

MetricsLog::~MetricsLog() {
  if (file_) std::fclose(file_);
}

Status MetricsLog::write(const Json& record) {
  const std::string line = record.dump() + "\n";
  if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() || std::fflush(file_) != 0)
    return Status::errorf("{}: write failed ({})", path_, std::strerror(errno));
  return Status::ok();
}

}  // namespace peft
