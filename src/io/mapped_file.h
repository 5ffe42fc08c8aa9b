// MappedFile: a read-only, whole-file memory mapping owned RAII-style.
#pragma once
#include <cstddef>
#include <memory>
#include <string>

#include "core/status.h"

namespace peft {

// Read-only mapping of a whole regular file. Shared through shared_ptr so tensor views
// into the mapping stay valid as long as any owner (e.g. a SafetensorsFile copy) lives.
class MappedFile {
 public:
  // Errors: "<path>: cannot open (<strerror>)", "<path>: not a regular file".
  static Result<std::shared_ptr<MappedFile>> open(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  // For an empty file data() is a valid non-null pointer to zero bytes.
  const unsigned char* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  MappedFile(std::string path, const unsigned char* data, size_t size)
      : path_(std::move(path)), data_(data), size_(size) {}
  std::string path_;
  const unsigned char* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace peft
