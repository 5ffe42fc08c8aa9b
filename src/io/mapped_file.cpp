// MappedFile: open + fstat + mmap; the descriptor is closed right away (the mapping keeps the file).
#include "io/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace peft {

namespace {
// mmap of length 0 is invalid, so empty files point here instead.
const unsigned char kEmpty[1] = {0};

Status errno_error(const std::string& path, const char* what, int err) {
  return Status::errorf("{}: {} ({})", path, what, std::strerror(err));
}
}  // namespace

Result<std::shared_ptr<MappedFile>> MappedFile::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno_error(path, "cannot open", errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return errno_error(path, "cannot stat", err);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status::errorf("{}: not a regular file", path);
  }
  size_t size = size_t(st.st_size);
  const unsigned char* data = kEmpty;
  if (size > 0) {
    void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      int err = errno;
      ::close(fd);
      return errno_error(path, "cannot mmap", err);
    }
    data = static_cast<const unsigned char*>(p);
  }
  ::close(fd);
  return std::shared_ptr<MappedFile>(new MappedFile(path, data, size));
}

MappedFile::~MappedFile() {
  if (size_ > 0) ::munmap(const_cast<unsigned char*>(data_), size_);
}

}  // namespace peft
