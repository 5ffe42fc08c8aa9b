// Atomic file writes (temp + fsync + rename) and OutputDir (sibling temp folder + rename).
#include "io/atomic_output.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "core/check.h"
#include "io/mapped_file.h"

namespace peft {

namespace fs = std::filesystem;

namespace {

Status errno_error(const std::string& path, const char* what, int err) {
  return Status::errorf("{}: {} ({})", path, what, std::strerror(err));
}

Status write_all(int fd, std::string_view bytes) {
  const char* p = bytes.data();
  size_t left = bytes.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::error(std::strerror(errno));
    }
    p += n;
    left -= size_t(n);
  }
  return Status::ok();
}

// After a rename the new directory entry is only durable once the folder itself is
// synced. Best effort: some filesystems refuse fsync on directories.
void sync_parent_dir(const std::string& path) {
  fs::path parent = fs::path(path).parent_path();
  if (parent.empty()) parent = ".";
  int fd = ::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  (void)::fsync(fd);
  ::close(fd);
}

// Drop trailing slashes so "<final>.tmp-<pid>" is a sibling, not a child.
std::string strip_trailing_slashes(std::string p) {
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

}  // namespace

Status write_file_atomic(const std::string& path, const std::vector<std::string_view>& pieces) {
  // The pid keeps concurrent processes writing the same target from clobbering each
  // other's temp file; the temp lives in the target's folder so rename() is atomic.
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return errno_error(path, "cannot create temporary file", errno);
  Status st;
  for (std::string_view piece : pieces) {
    st = write_all(fd, piece);
    if (!st) break;
  }
  if (st && ::fsync(fd) != 0) st = Status::error(std::strerror(errno));
  if (::close(fd) != 0 && st) st = Status::error(std::strerror(errno));
  if (!st) {
    ::unlink(tmp.c_str());
    return Status::errorf("{}: write failed ({})", path, st.message());
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return errno_error(path, "cannot rename temporary file into place", err);
  }
  sync_parent_dir(path);
  return Status::ok();
}

Status write_file_atomic(const std::string& path, const std::string& bytes) {
  return write_file_atomic(path, std::vector<std::string_view>{bytes});
}

Status copy_file_atomic(const std::string& from, const std::string& to) {
  PEFT_ASSIGN_OR_RETURN(auto src, MappedFile::open(from));
  std::string_view bytes(reinterpret_cast<const char*>(src->data()), src->size());
  return write_file_atomic(to, std::vector<std::string_view>{bytes});
}

Result<OutputDir> OutputDir::create(const std::string& final_dir_in, bool overwrite) {
  const std::string final_dir = strip_trailing_slashes(final_dir_in);
  if (final_dir.empty()) return Status::error("output folder: empty path");
  std::error_code ec;
  if (fs::exists(final_dir, ec)) {
    if (!overwrite) return Status::errorf("{}: already exists (refusing to overwrite)", final_dir);
    if (!fs::is_directory(final_dir, ec))
      return Status::errorf("{}: exists and is not a folder", final_dir);
  }
  fs::path parent = fs::path(final_dir).parent_path();
  if (!parent.empty()) {
    fs::create_directories(parent, ec);
    if (ec) return Status::errorf("{}: cannot create parent folder ({})", final_dir, ec.message());
  }
  std::string tmp = final_dir + ".tmp-" + std::to_string(::getpid());
  // A leftover from a crashed run that had the same pid is garbage by definition.
  fs::remove_all(tmp, ec);
  if (ec) return Status::errorf("{}: cannot remove stale temporary folder ({})", tmp, ec.message());
  fs::create_directory(tmp, ec);
  if (ec) return Status::errorf("{}: cannot create temporary folder ({})", tmp, ec.message());
  return OutputDir(final_dir, std::move(tmp), overwrite);
}

OutputDir::OutputDir(OutputDir&& other) noexcept
    : final_dir_(std::move(other.final_dir_)),
      tmp_dir_(std::move(other.tmp_dir_)),
      overwrite_(other.overwrite_),
      committed_(other.committed_) {
  // The moved-from object must not delete the folder we now own.
  other.tmp_dir_.clear();
  other.committed_ = true;
}

OutputDir::~OutputDir() {
  if (committed_ || tmp_dir_.empty()) return;
  std::error_code ec;
  fs::remove_all(tmp_dir_, ec);  // destructor: nothing useful to do with a failure
}

Status OutputDir::commit() {
  PEFT_CHECK(!committed_ && !tmp_dir_.empty(), "OutputDir committed twice");
  std::error_code ec;
  std::string old;
  if (fs::exists(final_dir_, ec)) {
    if (!overwrite_) return Status::errorf("{}: already exists (refusing to overwrite)", final_dir_);
    if (!fs::is_directory(final_dir_, ec))
      return Status::errorf("{}: exists and is not a folder", final_dir_);
    // Two renames instead of remove + rename: the old output stays intact until the
    // new one is complete and in place.
    old = final_dir_ + ".old-" + std::to_string(::getpid());
    fs::remove_all(old, ec);
    fs::rename(final_dir_, old, ec);
    if (ec) return Status::errorf("{}: cannot move the existing folder aside ({})", final_dir_, ec.message());
  }
  fs::rename(tmp_dir_, final_dir_, ec);
  if (ec) {
    std::error_code restore_ec;
    if (!old.empty()) fs::rename(old, final_dir_, restore_ec);
    return Status::errorf("{}: cannot rename {} into place ({})", final_dir_, tmp_dir_, ec.message());
  }
  committed_ = true;
  sync_parent_dir(final_dir_);
  if (!old.empty()) fs::remove_all(old, ec);  // the new output is in place; a leftover is harmless
  return Status::ok();
}

}  // namespace peft
