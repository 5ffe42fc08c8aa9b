// Tensor: a non-owning strided view (data, dtype, shape, strides); OwnedTensor owns its bytes.
#pragma once
#include <array>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "core/check.h"
#include "core/dtype.h"

namespace peft {

constexpr int kMaxDims = 6;

struct Tensor {
  void* data = nullptr;
  DType dtype = DType::F32;
  int ndim = 0;
  std::array<int64_t, kMaxDims> shape{};
  std::array<int64_t, kMaxDims> stride{};  // in elements

  Tensor() = default;
  Tensor(void* data, DType dtype, std::initializer_list<int64_t> dims);
  Tensor(void* data, DType dtype, const std::vector<int64_t>& dims);

  int64_t numel() const;
  size_t nbytes() const { return dtype_nbytes(dtype, numel()); }
  int64_t dim(int i) const { return shape[size_t(i < 0 ? i + ndim : i)]; }
  bool is_contiguous() const;
  std::vector<int64_t> dims() const { return {shape.begin(), shape.begin() + ndim}; }
  std::string shape_str() const;  // "[2, 3, 4]"

  // Typed access (checked dtype).
  float* f32() const {
    PEFT_CHECK(dtype == DType::F32, "tensor is {}", dtype_name(dtype));
    return static_cast<float*>(data);
  }
  int32_t* i32() const {
    PEFT_CHECK(dtype == DType::I32, "tensor is {}", dtype_name(dtype));
    return static_cast<int32_t*>(data);
  }
  int64_t* i64() const {
    PEFT_CHECK(dtype == DType::I64, "tensor is {}", dtype_name(dtype));
    return static_cast<int64_t*>(data);
  }
  uint16_t* u16() const {
    PEFT_CHECK(dtype_size(dtype) == 2, "tensor is {}", dtype_name(dtype));
    return static_cast<uint16_t*>(data);
  }

  // Same data, new contiguous shape with the same element count.
  Tensor reshape(std::initializer_list<int64_t> dims) const;
  // Rows [begin, end) of the first dimension (not for quantized tensors, which are only whole).
  Tensor slice0(int64_t begin, int64_t end) const;
  // Sub-tensor at index i of the first dimension.
  Tensor operator[](int64_t i) const;
};

// A tensor that owns 64-byte aligned storage.
class OwnedTensor {
 public:
  OwnedTensor() = default;
  OwnedTensor(DType dtype, const std::vector<int64_t>& dims);  // zero-filled
  static OwnedTensor zeros(DType dtype, const std::vector<int64_t>& dims) { return {dtype, dims}; }
  static OwnedTensor copy_of(const Tensor& src);  // contiguous copy
  const Tensor& view() const { return view_; }
  Tensor& view() { return view_; }
  float* f32() const { return view_.f32(); }
  int64_t numel() const { return view_.numel(); }
  bool empty() const { return view_.data == nullptr; }

 private:
  struct Free {
    void operator()(void* p) const;
  };
  std::unique_ptr<void, Free> storage_;
  Tensor view_;
};

// Convert any float tensor to a contiguous f32 copy.
OwnedTensor to_f32(const Tensor& src);

// Index of the first NaN or ±inf element of a contiguous F32/F16/BF16 tensor; -1 when all
// are finite (or the tensor has another dtype or no data).
int64_t first_non_finite(const Tensor& t);

}  // namespace peft
