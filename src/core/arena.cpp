// Arena allocator.
#include "core/arena.h"

#include <cstdlib>
#include <cstring>
#include <new>

namespace peft {

void Arena::Free::operator()(void* p) const { std::free(p); }

size_t Arena::bytes_for(DType dtype, const std::vector<int64_t>& dims) {
  Tensor probe(nullptr, dtype, dims);
  return (probe.nbytes() + 63) / 64 * 64;
}

void Arena::reserve(size_t capacity_bytes) {
  size_t bytes = (std::max<size_t>(capacity_bytes, 64) + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, bytes);
  // Sizes are checked against the machine before this (check_memory); a failure here is an
  // out-of-memory condition main() reports cleanly.
  if (p == nullptr) throw std::bad_alloc();
  block_.reset(p);
  capacity_ = bytes;
  used_ = 0;
}

Tensor Arena::alloc(DType dtype, const std::vector<int64_t>& dims) {
  size_t bytes = bytes_for(dtype, dims);
  PEFT_CHECK(used_ + bytes <= capacity_, "arena overflow: need {} more bytes, {} of {} used", bytes, used_, capacity_);
  char* p = static_cast<char*>(block_.get()) + used_;
  used_ += bytes;
  std::memset(p, 0, bytes);
  return Tensor(p, dtype, dims);
}

}  // namespace peft
