// Atomic outputs: files via temp + rename, folders built in a sibling temp folder and renamed.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "io/output_target.h"

namespace peft {

// Write bytes to `path` through `path.tmp.<pid>` + fsync + rename.
Status write_file_atomic(const std::string& path, const std::string& bytes);
// Same, streaming the concatenation of `pieces` (no big intermediate buffer).
Status write_file_atomic(const std::string& path, const std::vector<std::string_view>& pieces);
Status copy_file_atomic(const std::string& from, const std::string& to);

// Several files of one output committed together: stage() names a temporary beside each
// target to write to; commit() renames them all into place (a failure before it changes
// nothing; the temporaries are removed when never committed).
class StagedFiles {
 public:
  StagedFiles() = default;
  StagedFiles(const StagedFiles&) = delete;
  StagedFiles& operator=(const StagedFiles&) = delete;
  ~StagedFiles();
  std::string stage(const std::string& path);
  Status commit();

 private:
  std::vector<std::pair<std::string, std::string>> files_;  // (temporary, target)
  bool committed_ = false;
};

// Builds an output folder in `<final>.tmp-<pid>` next to it, holding the output's lock
// (io/output_target.h) from create() to commit() or destruction. commit() moves it into place: onto a
// missing or empty folder as one rename; into a non-empty one — allowed only with
// `overwrite` — entry by entry, replacing the entries it wrote and keeping the others (and
// saying which on stderr). If never committed, the destructor removes the temporary folder,
// so a failure leaves nothing half-written. Temporaries of this output left by killed
// processes are removed on create().
class OutputDir {
 public:
  static Result<OutputDir> create(const std::string& final_dir, bool overwrite = false);
  OutputDir(OutputDir&& other) noexcept;
  OutputDir& operator=(OutputDir&&) = delete;
  OutputDir(const OutputDir&) = delete;
  ~OutputDir();
  // Path of a file inside the temporary folder.
  std::string file(const std::string& name) const { return tmp_dir_ + "/" + name; }
  const std::string& tmp_dir() const { return tmp_dir_; }
  Status commit();

 private:
  OutputDir(std::string final_dir, std::string tmp_dir, bool overwrite, OutputLock lock)
      : final_dir_(std::move(final_dir)), tmp_dir_(std::move(tmp_dir)), overwrite_(overwrite), lock_(std::move(lock)) {}
  Status merge_into_existing();
  std::string final_dir_;
  std::string tmp_dir_;
  bool overwrite_ = false;
  bool committed_ = false;
  OutputLock lock_;
};

}  // namespace peft
