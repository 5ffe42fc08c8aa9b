// Tensor view helpers and aligned owned storage.
#include "core/tensor.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

namespace peft {

namespace {
void set_contiguous_strides(Tensor& t) {
  int64_t s = 1;
  for (int i = t.ndim - 1; i >= 0; --i) {
    t.stride[size_t(i)] = s;
    s *= t.shape[size_t(i)];
  }
}
}  // namespace

Tensor::Tensor(void* d, DType dt, std::initializer_list<int64_t> dims) : Tensor(d, dt, std::vector<int64_t>(dims)) {}

Tensor::Tensor(void* d, DType dt, const std::vector<int64_t>& dims) : data(d), dtype(dt) {
  PEFT_CHECK(dims.size() <= size_t(kMaxDims), "too many dims: {}", dims.size());
  ndim = int(dims.size());
  for (size_t i = 0; i < dims.size(); ++i) shape[i] = dims[i];
  set_contiguous_strides(*this);
}

int64_t Tensor::numel() const {
  int64_t n = 1;
  for (int i = 0; i < ndim; ++i) n *= shape[size_t(i)];
  return n;
}

bool Tensor::is_contiguous() const {
  int64_t s = 1;
  for (int i = ndim - 1; i >= 0; --i) {
    if (shape[size_t(i)] != 1 && stride[size_t(i)] != s) return false;
    s *= shape[size_t(i)];
  }
  return true;
}

std::string Tensor::shape_str() const {
  return fmt::format("[{}]", fmt::join(shape.begin(), shape.begin() + ndim, ", "));
}

Tensor Tensor::reshape(std::initializer_list<int64_t> dims) const {
  PEFT_CHECK(is_contiguous(), "reshape of a strided view");
  Tensor t(data, dtype, dims);
  PEFT_CHECK(t.numel() == numel(), "reshape {} -> {} changes the element count", shape_str(), t.shape_str());
  return t;
}

Tensor Tensor::slice0(int64_t begin, int64_t end) const {
  PEFT_CHECK(ndim >= 1 && 0 <= begin && begin <= end && end <= shape[0], "bad slice [{}, {}) of {}", begin, end,
             shape_str());
  PEFT_CHECK(!dtype_is_quantized(dtype), "slice of a {} tensor", dtype_name(dtype));
  Tensor t = *this;
  t.data = static_cast<char*>(data) + size_t(begin * stride[0]) * dtype_size(dtype);
  t.shape[0] = end - begin;
  return t;
}

Tensor Tensor::operator[](int64_t i) const {
  PEFT_CHECK(ndim >= 1 && 0 <= i && i < shape[0], "index {} out of {}", i, shape_str());
  PEFT_CHECK(!dtype_is_quantized(dtype), "index into a {} tensor", dtype_name(dtype));
  Tensor t;
  t.data = static_cast<char*>(data) + size_t(i * stride[0]) * dtype_size(dtype);
  t.dtype = dtype;
  t.ndim = ndim - 1;
  for (int d = 1; d < ndim; ++d) {
    t.shape[size_t(d - 1)] = shape[size_t(d)];
    t.stride[size_t(d - 1)] = stride[size_t(d)];
  }
  return t;
}

void OwnedTensor::Free::operator()(void* p) const { std::free(p); }

OwnedTensor::OwnedTensor(DType dtype, const std::vector<int64_t>& dims) {
  Tensor probe(nullptr, dtype, dims);
  size_t bytes = (std::max<size_t>(probe.nbytes(), 1) + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, bytes);
  PEFT_CHECK(p != nullptr, "out of memory allocating {} bytes", bytes);
  std::memset(p, 0, bytes);
  storage_.reset(p);
  view_ = Tensor(p, dtype, dims);
}

OwnedTensor OwnedTensor::copy_of(const Tensor& src) {
  PEFT_CHECK(src.is_contiguous(), "copy_of a strided view");
  OwnedTensor t(src.dtype, src.dims());
  std::memcpy(t.view().data, src.data, src.nbytes());
  return t;
}

OwnedTensor to_f32(const Tensor& src) {
  PEFT_CHECK(src.is_contiguous(), "to_f32 of a strided view");
  OwnedTensor t(DType::F32, src.dims());
  convert_to_f32(t.f32(), src.data, src.dtype, size_t(src.numel()));
  return t;
}

}  // namespace peft

namespace peft {

int64_t first_non_finite(const Tensor& t) {
  if (!t.data) return -1;
  const int64_t n = t.numel();
  // NaN and ±inf: every exponent bit set. Blocks of 64K let OpenMP split big weights; the
  // first hit in element order is the one reported.
  auto scan = [&](auto bits, auto mask) -> int64_t {
    using U = decltype(mask);
    const U* p = static_cast<const U*>(t.data);
    constexpr int64_t kBlock = 1 << 16;
    const int64_t blocks = (n + kBlock - 1) / kBlock;
    int64_t first = -1;
#pragma omp parallel for schedule(static) if (n > (1 << 20))
    for (int64_t b = 0; b < blocks; ++b) {
      const int64_t end = std::min(n, (b + 1) * kBlock);
      bool bad = false;
      for (int64_t i = b * kBlock; i < end; ++i) bad |= (p[i] & mask) == mask;
      if (!bad) continue;
      for (int64_t i = b * kBlock; i < end; ++i)
        if ((p[i] & mask) == mask) {
#pragma omp critical
          if (first < 0 || i < first) first = i;
          break;
        }
    }
    (void)bits;
    return first;
  };
  switch (t.dtype) {
    case DType::F32:
      return scan(0, uint32_t(0x7F800000u));
    case DType::F16:
      return scan(0, uint16_t(0x7C00u));
    case DType::BF16:
      return scan(0, uint16_t(0x7F80u));
    default:
      return -1;
  }
}

}  // namespace peft
