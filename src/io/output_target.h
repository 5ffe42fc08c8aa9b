// Where a command may write: outputs never destroy what the command did not write.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "core/status.h"

namespace peft {

// An output path must name a plain file or folder (or nothing yet) outside the system's
// pseudo-filesystems: "/", "/proc", "/sys", "/dev" and everything below them are refused, as
// are an existing target that is a symlink, a device, a FIFO or a socket, and an existing
// target of the other kind (a folder where a file goes and the reverse).
enum class OutputKind { File, Folder };
Status check_output_target(const std::string& path, OutputKind kind);

// A file output: check_output_target, and an existing file only with `overwrite`.
Status check_output_file(const std::string& path, bool overwrite);

// The entries of an existing folder (empty when absent), sorted.
std::vector<std::string> folder_entries(const std::string& dir);

// A folder output: check_output_target, and a non-empty folder only with `overwrite` (the
// command then replaces the files it writes and keeps the others). The error lists what is
// there and names --overwrite.
Status check_output_folder(const std::string& path, bool overwrite);

// An exclusive lock on an output (flock on "<parent>/.<name>.lock", removed on release):
// a second peft writing the same output gets "PATH: another peft process (pid N) is
// writing it" instead of interleaving with the first.
class OutputLock {
 public:
  static Result<OutputLock> acquire(const std::string& target);
  OutputLock(OutputLock&& other) noexcept : fd_(other.fd_), path_(std::move(other.path_)) { other.fd_ = -1; }
  OutputLock& operator=(OutputLock&& other) noexcept;
  OutputLock(const OutputLock&) = delete;
  ~OutputLock();
  void release();  // early (idempotent)

 private:
  OutputLock(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::string path_;
};

// Removes what killed processes left in `dir`: "<name>.tmp-<pid>" / "<name>.tmp.<pid>"
// (temporary outputs) and "<name>.old-<pid>" (a replaced folder) whose process is gone,
// for the output names `ours(name)` accepts (never a user's file that only looks alike).
// Returns the entries removed.
std::vector<std::string> remove_stale_temporaries(const std::string& dir,
                                                  const std::function<bool(const std::string&)>& ours);

}  // namespace peft
