// Element types of tensors, their sizes and the bf16/f16 <-> f32 conversions.
#pragma once
#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>

namespace peft {

// F32 … I64 are element types. The rest are block-quantized weight formats (src/quant/):
// ggml's GGUF types, bit-compatible with llama.cpp, and QLoRA's NF4. A quantized tensor is
// a row-major matrix whose rows are whole blocks; it has no per-element size.
enum class DType : uint8_t {
  F32,
  BF16,
  F16,
  I32,
  I64,
  Q8_0,
  Q4_0,
  Q4_1,
  Q5_0,
  Q5_1,
  Q2_K,
  Q3_K,
  Q4_K,
  Q5_K,
  Q6_K,
  IQ4_NL,
  IQ4_XS,
  NF4,
};

constexpr bool dtype_is_quantized(DType t) { return uint8_t(t) >= uint8_t(DType::Q8_0); }

// Bytes per element; 0 for quantized types (see dtype_nbytes).
constexpr size_t dtype_size(DType t) {
  switch (t) {
    case DType::F32:
      return 4;
    case DType::BF16:
      return 2;
    case DType::F16:
      return 2;
    case DType::I32:
      return 4;
    case DType::I64:
      return 8;
    default:
      return 0;
  }
}

// Bytes that n elements of `t` occupy (n a multiple of the block for quantized types).
size_t dtype_nbytes(DType t, int64_t n);

// The safetensors spelling: "F32", "BF16", ...; quantized types by ggml's names ("Q4_K", "NF4").
std::string_view dtype_name(DType t);
// Element types only (F32 … I64): the names a safetensors header may use.
std::optional<DType> dtype_from_name(std::string_view name);

inline float bf16_to_f32(uint16_t h) {
  uint32_t bits = uint32_t(h) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}
// Round to nearest even, as PyTorch does; NaN stays NaN.
inline uint16_t f32_to_bf16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return uint16_t((bits >> 16) | 0x40);
  uint32_t rounding = 0x7fffu + ((bits >> 16) & 1u);
  return uint16_t((bits + rounding) >> 16);
}
float f16_to_f32(uint16_t h);
uint16_t f32_to_f16(float f);

// Convert n elements of `src` (any float dtype, or a whole quantized tensor of n elements) into f32.
void convert_to_f32(float* dst, const void* src, DType src_type, size_t n);
// Convert n f32 elements into `dst_type` (F32, BF16, F16, or a quantized type: then `src` is
// a whole row-major tensor of n elements whose rows are whole blocks).
void convert_from_f32(void* dst, DType dst_type, const float* src, size_t n);

}  // namespace peft
