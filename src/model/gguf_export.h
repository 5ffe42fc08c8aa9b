// Export a loaded model as a GGUF file llama.cpp can run (every architecture with ArchDef::gguf).
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "io/gguf.h"
#include "io/gguf_vocab.h"
#include "model/model.h"

namespace peft {

// What storing one matrix in a lossy type costs: the written values against the model's own.
struct StorageError {
  std::string tensor;  // GGUF name
  GgmlType type = GgmlType::F32;
  double rms_error = 0, max_error = 0, rms_weight = 0;
  int64_t numel = 0;
};

struct GgufExportOptions {
  // Storage of the matrices; 1-D tensors (norms, biases) are always F32, as llama.cpp
  // expects. Quantized rows whose length is not a multiple of the type's block fall back to
  // F16, as in llama.cpp's converter. A matrix the model holds quantized in exactly this
  // type is copied as it is (no second rounding).
  GgmlType type = GgmlType::F32;
  std::string name;  // general.name
  // When set, every matrix written in a lossy type (F16, BF16, quantized) and not copied
  // adds its error here (a merge's requantization report).
  std::vector<StorageError>* storage_errors = nullptr;
};

// "f32" | "f16" | "bf16" | "q8_0" | "q4_0" | "q4_k" → type.
std::optional<GgmlType> ggml_type_from_flag(const std::string& flag);
// llama_ftype value for general.file_type.
uint32_t gguf_file_type(GgmlType type);
// A 2-D tensor's bytes in `type` (a quantized type falls back to F16 for rows not a multiple of its block);
// the type actually used is returned in `used`.
std::string encode_matrix(const float* data, int64_t rows, int64_t cols, GgmlType type, GgmlType& used);

// Writes `model` with llama.cpp's metadata keys and tensor names (rows reordered as its
// converter does), plus `vocab` when given (padded with unused "[PADn]" tokens up to the
// model's vocabulary size), atomically to `path`.
Status export_gguf(const Model& model, const GgufVocab* vocab, const GgufExportOptions& options,
                   const std::string& path);

}  // namespace peft
