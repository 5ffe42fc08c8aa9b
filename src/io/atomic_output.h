// Atomic outputs: files via temp + rename, folders built in a sibling temp folder and renamed.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace peft {

// Write bytes to `path` through `path.tmp.<pid>` + fsync + rename.
Status write_file_atomic(const std::string& path, const std::string& bytes);
// Same, streaming the concatenation of `pieces` (no big intermediate buffer).
Status write_file_atomic(const std::string& path, const std::vector<std::string_view>& pieces);
Status copy_file_atomic(const std::string& from, const std::string& to);

// Builds an output folder in `<final>.tmp-<pid>` next to it; commit() renames it into
// place (replacing an existing folder only if `overwrite`). If never committed, the
// destructor removes the temporary folder, so a failure leaves nothing half-written.
class OutputDir {
 public:
  static Result<OutputDir> create(const std::string& final_dir, bool overwrite = true);
  OutputDir(OutputDir&& other) noexcept;
  OutputDir& operator=(OutputDir&&) = delete;
  OutputDir(const OutputDir&) = delete;
  ~OutputDir();
  // Path of a file inside the temporary folder.
  std::string file(const std::string& name) const { return tmp_dir_ + "/" + name; }
  const std::string& tmp_dir() const { return tmp_dir_; }
  Status commit();

 private:
  OutputDir(std::string final_dir, std::string tmp_dir, bool overwrite)
      : final_dir_(std::move(final_dir)), tmp_dir_(std::move(tmp_dir)), overwrite_(overwrite) {}
  std::string final_dir_;
  std::string tmp_dir_;
  bool overwrite_ = true;
  bool committed_ = false;
};

}  // namespace peft
