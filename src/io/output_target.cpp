// Output path checks, output locks and the collection of dead processes' temporaries.
#include "io/output_target.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

namespace peft {

namespace fs = std::filesystem;

namespace {

bool under(const std::string& path, const std::string& root) { return path == root || path.starts_with(root + "/"); }

// The system pseudo-filesystems and the root itself, on the resolved path.
bool system_location(const std::string& path) {
  std::error_code ec;
  fs::path resolved = fs::weakly_canonical(fs::absolute(path, ec), ec);
  if (ec) resolved = fs::absolute(path, ec);
  const std::string p = resolved.lexically_normal().string();
  return p == "/" || under(p, "/proc") || under(p, "/sys") || under(p, "/dev");
}

std::string strip_trailing_slashes(std::string p) {
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

bool process_alive(long pid) {
  if (pid <= 0) return false;
  return ::kill(pid_t(pid), 0) == 0 || errno == EPERM;
}

}  // namespace

Status check_output_target(const std::string& path_in, OutputKind kind) {
  const std::string path = strip_trailing_slashes(path_in);
  if (path.empty()) return Status::error("output path is empty");
  if (system_location(path))
    return Status::errorf("{}: refusing to write into a system location (/, /proc, /sys, /dev)", path);
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status::ok();
    return Status::errorf("{}: cannot inspect the output path ({})", path, std::strerror(errno));
  }
  if (S_ISLNK(st.st_mode))
    return Status::errorf(
        "{}: is a symbolic link; outputs are written as plain files and folders (remove the link or "
        "name its target)",
        path);
  if (S_ISREG(st.st_mode)) {
    if (kind == OutputKind::Folder) return Status::errorf("{}: exists and is a file, not a folder", path);
    return Status::ok();
  }
  if (S_ISDIR(st.st_mode)) {
    if (kind == OutputKind::File) return Status::errorf("{}: exists and is a folder, not a file", path);
    return Status::ok();
  }
  return Status::errorf("{}: exists and is not a plain file or folder (a device, FIFO or socket)", path);
}

Status check_output_file(const std::string& path, bool overwrite) {
  PEFT_TRY(check_output_target(path, OutputKind::File));
  std::error_code ec;
  if (!overwrite && fs::exists(path, ec))
    return Status::errorf("{}: already exists (pass --overwrite to replace it)", path);
  return Status::ok();
}

std::vector<std::string> folder_entries(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec))
    names.push_back(it->path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

Status check_output_folder(const std::string& path, bool overwrite) {
  PEFT_TRY(check_output_target(path, OutputKind::Folder));
  if (overwrite) return Status::ok();
  const std::vector<std::string> entries = folder_entries(path);
  if (entries.empty()) return Status::ok();
  std::vector<std::string> shown(entries.begin(), entries.begin() + std::min<size_t>(entries.size(), 4));
  return Status::errorf(
      "{}: is not empty ({} entr{}: {}{}); pass --overwrite to replace the files this command "
      "writes (the others are kept), or choose a new folder",
      strip_trailing_slashes(path), entries.size(), entries.size() == 1 ? "y" : "ies", fmt::join(shown, ", "),
      entries.size() > shown.size() ? ", ..." : "");
}

Result<OutputLock> OutputLock::acquire(const std::string& target_in) {
  const std::string target = strip_trailing_slashes(target_in);
  fs::path t(target);
  fs::path parent = t.parent_path();
  std::error_code ec;
  if (!parent.empty()) {
    fs::create_directories(parent, ec);
    if (ec) return Status::errorf("{}: cannot create the parent folder ({})", target, ec.message());
  }
  const std::string lock_path = (parent / ("." + t.filename().string() + ".lock")).string();
  for (int attempt = 0; attempt < 8; ++attempt) {
    const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
      return Status::errorf("{}: cannot create the output lock {} ({})", target, lock_path, std::strerror(errno));
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      char buf[32] = {0};
      const ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
      ::close(fd);
      const std::string who = n > 0 ? fmt::format(" (pid {})", std::string(buf, size_t(n))) : "";
      return Status::errorf("{}: another peft process{} is writing it; wait for it or choose another output", target,
                            who);
    }
    // The holder before us may have removed the file after we opened it: lock the file
    // that is at the path now.
    struct stat by_fd, by_path;
    if (::fstat(fd, &by_fd) == 0 && ::stat(lock_path.c_str(), &by_path) == 0 && by_fd.st_ino == by_path.st_ino &&
        by_fd.st_dev == by_path.st_dev) {
      const std::string pid = std::to_string(::getpid());
      if (::ftruncate(fd, 0) == 0) (void)::pwrite(fd, pid.data(), pid.size(), 0);
      return OutputLock(fd, lock_path);
    }
    ::close(fd);
  }
  return Status::errorf("{}: cannot take the output lock {} (it keeps changing)", target, lock_path);
}

OutputLock& OutputLock::operator=(OutputLock&& other) noexcept {
  if (this != &other) {
    release();
    fd_ = other.fd_;
    path_ = std::move(other.path_);
    other.fd_ = -1;
  }
  return *this;
}

void OutputLock::release() {
  if (fd_ < 0) return;
  ::unlink(path_.c_str());  // while still holding it: a waiter re-checks the inode
  ::flock(fd_, LOCK_UN);
  ::close(fd_);
  fd_ = -1;
}

OutputLock::~OutputLock() { release(); }

std::vector<std::string> remove_stale_temporaries(const std::string& dir,
                                                  const std::function<bool(const std::string&)>& ours) {
  std::vector<std::string> removed;
  for (const std::string& name : folder_entries(dir.empty() ? "." : dir)) {
    size_t pos = std::string::npos;
    for (const char* marker : {".tmp-", ".tmp.", ".old-"}) {
      const size_t p = name.rfind(marker);
      if (p != std::string::npos && (pos == std::string::npos || p > pos)) pos = p;
    }
    if (pos == std::string::npos) continue;
    const std::string digits = name.substr(pos + 5);
    if (digits.empty() || digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos) continue;
    if (!ours(name.substr(0, pos)) || process_alive(std::stol(digits))) continue;
    std::error_code ec;
    fs::remove_all(fs::path(dir.empty() ? "." : dir) / name, ec);
    if (!ec) removed.push_back(name);
  }
  return removed;
}

}  // namespace peft
