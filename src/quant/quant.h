// Block-quantized weights: ggml's GGUF types (bit-compatible with llama.cpp) and QLoRA's NF4.
//
// A quantized tensor is a row-major (rows, cols) matrix whose rows are whole blocks. ggml
// types store each block self-contained (an f16 scale, packed codes), so a row is a byte
// range and a GGUF file's bytes are used as they are (mmap'd). NF4 follows bitsandbytes: the
// whole tensor is flattened into blocks of 64 with one absmax each, and the absmaxes are
// themselves quantized (double quantization), so its layout is per tensor (quant/nf4.h).
#pragma once
#include <cstdint>
#include <optional>
#include <string_view>

#include "core/tensor.h"

namespace peft {

// "Q4_K", "NF4", ...
const char* quant_type_name(DType t);
// The quantized type named `name` (any case: "q4_k" or "Q4_K"); nullopt for other names.
std::optional<DType> quant_type_from_name(std::string_view name);
// Elements per block: 32 (Q8_0, Q4_0…Q5_1, IQ4_NL), 256 (K-quants, IQ4_XS), 64 (NF4).
int64_t quant_block(DType t);
// Bytes of n elements (a multiple of the block); NF4 includes its per-tensor statistics.
size_t quant_nbytes(DType t, int64_t n);
// Bytes of one row of `cols` elements of a ggml type (NF4 has no per-row layout: 0).
size_t quant_row_bytes(DType t, int64_t cols);

// ggml's type number ↔ DType (F32/F16/BF16 included); nullopt where peft has no reader.
std::optional<DType> dtype_from_ggml(uint32_t ggml_type);
std::optional<uint32_t> ggml_from_dtype(DType t);

// n elements (whole blocks) of a whole quantized tensor into f32, exactly as ggml's (and
// gguf-py's) dequantization computes them.
void dequantize(float* dst, const void* src, DType t, int64_t n);
// Rows [r0, r1) of the quantized matrix W (rows, cols) into dst (r1 − r0, cols): f32 exact,
// or bf16 (the exact value rounded to nearest even).
void dequantize_rows(float* dst, const Tensor& W, int64_t r0, int64_t r1);
void dequantize_rows_bf16(uint16_t* dst, const Tensor& W, int64_t r0, int64_t r1);

// Quantize n f32 elements (whole blocks of a whole tensor) into `t`. Q8_0 and Q4_0 are
// ggml's reference quantizers bit for bit; Q4_K searches each sub-block's scale and min
// (quant/quantize.cpp says how); NF4 is bitsandbytes' with double-quantized absmaxes.
// Supported: Q8_0, Q4_0, Q4_K, NF4 (quant_can_quantize).
void quantize(void* dst, const float* src, DType t, int64_t n);
bool quant_can_quantize(DType t);

// The first block (in element order: element index / block) whose scale is NaN or ±inf, or
// -1 when all are finite: a damaged file would make every product with the matrix garbage.
int64_t first_bad_block(const void* src, DType t, int64_t n);

}  // namespace peft
