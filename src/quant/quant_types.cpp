// The quantized types' names, block layouts, ggml numbers and scale checks.
#include <cctype>
#include <cmath>
#include <cstring>
#include <string>

#include "core/check.h"
#include "quant/ggml_blocks.h"
#include "quant/nf4.h"
#include "quant/quant.h"

namespace peft {

namespace {

struct QuantRow {
  DType type;
  const char* name;
  uint32_t ggml;  // ggml's type number (NF4: none, kNoGgml)
  int64_t block;  // elements per block
  int64_t bytes;  // bytes per block (NF4: the packed codes and the absmax code only)
  int scales[2];  // byte offsets of the block's f16 scales (-1: none)
};
constexpr uint32_t kNoGgml = ~0u;

constexpr QuantRow kQuantTypes[] = {
    {DType::Q8_0, "Q8_0", 8, 32, 34, {0, -1}},
    {DType::Q4_0, "Q4_0", 2, 32, 18, {0, -1}},
    {DType::Q4_1, "Q4_1", 3, 32, 20, {0, 2}},
    {DType::Q5_0, "Q5_0", 6, 32, 22, {0, -1}},
    {DType::Q5_1, "Q5_1", 7, 32, 24, {0, 2}},
    {DType::Q2_K, "Q2_K", 10, 256, 84, {80, 82}},
    {DType::Q3_K, "Q3_K", 11, 256, 110, {108, -1}},
    {DType::Q4_K, "Q4_K", 12, 256, 144, {0, 2}},
    {DType::Q5_K, "Q5_K", 13, 256, 176, {0, 2}},
    {DType::Q6_K, "Q6_K", 14, 256, 210, {208, -1}},
    {DType::IQ4_NL, "IQ4_NL", 20, 32, 18, {0, -1}},
    {DType::IQ4_XS, "IQ4_XS", 23, 256, 136, {0, -1}},
    {DType::NF4, "NF4", kNoGgml, kNf4Block, 33, {-1, -1}},
};

const QuantRow& row_of(DType t) {
  for (const QuantRow& r : kQuantTypes)
    if (r.type == t) return r;
  PEFT_CHECK(false, "{} is not a quantized type", int(t));
  return kQuantTypes[0];
}

}  // namespace

const char* quant_type_name(DType t) {
  for (const QuantRow& r : kQuantTypes)
    if (r.type == t) return r.name;
  return "?";
}

std::optional<DType> quant_type_from_name(std::string_view name) {
  std::string upper(name);
  for (char& c : upper) c = char(std::toupper(static_cast<unsigned char>(c)));
  for (const QuantRow& r : kQuantTypes)
    if (upper == r.name) return r.type;
  return std::nullopt;
}

int64_t quant_block(DType t) { return row_of(t).block; }

size_t quant_nbytes(DType t, int64_t n) {
  if (t == DType::NF4) return nf4_nbytes(n);
  const QuantRow& r = row_of(t);
  return size_t(n / r.block) * size_t(r.bytes);
}

size_t quant_row_bytes(DType t, int64_t cols) {
  if (t == DType::NF4) return 0;
  return quant_nbytes(t, cols);
}

std::optional<DType> dtype_from_ggml(uint32_t ggml_type) {
  if (ggml_type == 0) return DType::F32;
  if (ggml_type == 1) return DType::F16;
  if (ggml_type == 30) return DType::BF16;
  for (const QuantRow& r : kQuantTypes)
    if (r.ggml == ggml_type) return r.type;
  return std::nullopt;
}

std::optional<uint32_t> ggml_from_dtype(DType t) {
  if (t == DType::F32) return 0u;
  if (t == DType::F16) return 1u;
  if (t == DType::BF16) return 30u;
  if (!dtype_is_quantized(t) || row_of(t).ggml == kNoGgml) return std::nullopt;
  return row_of(t).ggml;
}

int64_t first_bad_block(const void* src, DType t, int64_t n) {
  if (t == DType::NF4) return nf4_first_bad_block(src, n);
  const QuantRow& r = row_of(t);
  const auto* p = static_cast<const uint8_t*>(src);
  const int64_t blocks = n / r.block;
  for (int64_t b = 0; b < blocks; ++b)
    for (int off : r.scales) {
      if (off < 0) continue;
      uint16_t h;
      std::memcpy(&h, p + b * r.bytes + off, 2);
      if ((h & 0x7c00) == 0x7c00) return b;  // f16 exponent all ones: inf or NaN
    }
  return -1;
}

}  // namespace peft
