// Arena: one aligned block carved into tensors; sized up front so a step never allocates.
#pragma once
#include <cstddef>
#include <memory>
#include <vector>

#include "core/tensor.h"

namespace peft {

class Arena {
 public:
  Arena() = default;
  explicit Arena(size_t capacity_bytes) { reserve(capacity_bytes); }
  // (Re)allocate the block; invalidates every tensor handed out.
  void reserve(size_t capacity_bytes);
  // A zero-filled tensor carved from the block; aborts if the arena is too small
  // (the caller sized it, so running out is a bug, not bad input).
  Tensor alloc(DType dtype, const std::vector<int64_t>& dims);
  Tensor alloc_f32(const std::vector<int64_t>& dims) { return alloc(DType::F32, dims); }
  void reset() { used_ = 0; }
  size_t used() const { return used_; }
  size_t capacity() const { return capacity_; }
  // Bytes `alloc` would consume for this tensor (for sizing passes).
  static size_t bytes_for(DType dtype, const std::vector<int64_t>& dims);

 private:
  struct Free {
    void operator()(void* p) const;
  };
  std::unique_ptr<void, Free> block_;
  size_t capacity_ = 0;
  size_t used_ = 0;
};

}  // namespace peft
