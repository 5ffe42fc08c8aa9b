// Atomic file writes (temp + fsync + rename) and OutputDir (sibling temp folder + rename).
#include "io/atomic_output.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include <fmt/format.h>

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

std::string StagedFiles::stage(const std::string& path) {
  // The name a killed run's leftovers are collected by (remove_stale_temporaries).
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  files_.emplace_back(tmp, path);
  return tmp;
}

Status StagedFiles::commit() {
  PEFT_CHECK(!committed_, "StagedFiles committed twice");
  for (const auto& [tmp, path] : files_)
    if (::rename(tmp.c_str(), path.c_str()) != 0)
      return errno_error(path, "cannot rename the staged file into place", errno);
  committed_ = true;
  if (!files_.empty()) sync_parent_dir(files_.front().second);
  return Status::ok();
}

StagedFiles::~StagedFiles() {
  if (committed_) return;
  for (const auto& [tmp, path] : files_) ::unlink(tmp.c_str());
}

Result<OutputDir> OutputDir::create(const std::string& final_dir_in, bool overwrite) {
  const std::string final_dir = strip_trailing_slashes(final_dir_in);
  PEFT_TRY(check_output_folder(final_dir, overwrite));
  PEFT_ASSIGN_OR_RETURN(OutputLock lock, OutputLock::acquire(final_dir));
  const fs::path final_path(final_dir);
  const std::string name = final_path.filename().string();
  remove_stale_temporaries(final_path.parent_path().string(), [&](const std::string& base) { return base == name; });
  std::error_code ec;
  std::string tmp = final_dir + ".tmp-" + std::to_string(::getpid());
  // A leftover from a crashed run that had the same pid is garbage by definition.
  fs::remove_all(tmp, ec);
  if (ec) return Status::errorf("{}: cannot remove stale temporary folder ({})", tmp, ec.message());
  fs::create_directory(tmp, ec);
  if (ec) return Status::errorf("{}: cannot create temporary folder ({})", tmp, ec.message());
  return OutputDir(final_dir, std::move(tmp), overwrite, std::move(lock));
}

OutputDir::OutputDir(OutputDir&& other) noexcept
    : final_dir_(std::move(other.final_dir_)),
      tmp_dir_(std::move(other.tmp_dir_)),
      overwrite_(other.overwrite_),
      committed_(other.committed_),
      lock_(std::move(other.lock_)) {
  // The moved-from object must not delete the folder we now own.
  other.tmp_dir_.clear();
  other.committed_ = true;
}

OutputDir::~OutputDir() {
  if (committed_ || tmp_dir_.empty()) return;
  std::error_code ec;
  fs::remove_all(tmp_dir_, ec);  // destructor: nothing useful to do with a failure
}

// --overwrite into a folder that holds other things: each entry we wrote replaces its
// namesake (a file by an atomic rename; a folder moved aside first), the rest stays.
Status OutputDir::merge_into_existing() {
  std::error_code ec;
  const std::vector<std::string> ours = folder_entries(tmp_dir_);
  std::vector<std::string> replaced;
  for (const std::string& name : ours) {
    const fs::path from = fs::path(tmp_dir_) / name, to = fs::path(final_dir_) / name;
    PEFT_TRY(check_output_target(to.string(), fs::is_directory(from, ec) ? OutputKind::Folder : OutputKind::File));
    if (fs::exists(to, ec)) replaced.push_back(name);
    if (fs::is_directory(to, ec)) {
      const fs::path aside = to.string() + ".old-" + std::to_string(::getpid());
      fs::rename(to, aside, ec);
      if (ec) return Status::errorf("{}: cannot move the existing folder aside ({})", to.string(), ec.message());
      fs::rename(from, to, ec);
      if (ec) return Status::errorf("{}: cannot rename {} into place ({})", to.string(), from.string(), ec.message());
      fs::remove_all(aside, ec);
    } else {
      fs::rename(from, to, ec);
      if (ec) return Status::errorf("{}: cannot rename {} into place ({})", to.string(), from.string(), ec.message());
    }
  }
  fs::remove_all(tmp_dir_, ec);
  const size_t kept = folder_entries(final_dir_).size() - ours.size();
  if (!replaced.empty() || kept > 0)
    fmt::print(stderr, "{}: --overwrite replaced {} ({} other entr{} kept)\n", final_dir_,
               replaced.empty() ? std::string("nothing") : fmt::format("{}", fmt::join(replaced, ", ")), kept,
               kept == 1 ? "y" : "ies");
  return Status::ok();
}

Status OutputDir::commit() {
  PEFT_CHECK(!committed_ && !tmp_dir_.empty(), "OutputDir committed twice");
  std::error_code ec;
  const bool existing = fs::is_directory(final_dir_, ec) && !folder_entries(final_dir_).empty();
  if (existing) {
    if (!overwrite_) return check_output_folder(final_dir_, false);  // appeared meanwhile
    PEFT_TRY(merge_into_existing());
  } else {
    // rename(2) replaces a missing or empty folder in one step.
    fs::rename(tmp_dir_, final_dir_, ec);
    if (ec) return Status::errorf("{}: cannot rename {} into place ({})", final_dir_, tmp_dir_, ec.message());
  }
  committed_ = true;
  sync_parent_dir(final_dir_);
  lock_.release();  // the output is complete
  return Status::ok();
}

}  // namespace peft
