// Decoding one block of a ggml quantized type (layouts as ggml-common.h defines them).
#pragma once
#include <cstdint>
#include <cstring>

#include "core/dtype.h"

#if defined(__F16C__)
#include <immintrin.h>
#endif

namespace peft {

// An f16 scale stored little-endian at p (exact: every f16 is an f32).
inline float load_f16(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
#if defined(__F16C__)
  return _cvtsh_ss(h);
#else
  return f16_to_f32(h);
#endif
}

// Decodes one block of a ggml type into y (its block size of floats); nullptr for types
// that are not ggml's. The arithmetic is ggml's dequantize_row_* (and gguf-py's), operation
// for operation in f32, so the results are bit-identical: the file is compiled without
// floating-point contraction (an a·b − c fused into one rounding would differ).
using BlockDecoder = void (*)(const uint8_t* block, float* y);
BlockDecoder block_decoder(DType t);

}  // namespace peft
