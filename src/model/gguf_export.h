// Export a loaded model as a GGUF file llama.cpp can run (every architecture with ArchDef::gguf).
#pragma once
#include <optional>
#include <string>

#include "core/status.h"
#include "io/gguf.h"
#include "io/gguf_vocab.h"
#include "model/model.h"

namespace peft {

struct GgufExportOptions {
  // Storage of the matrices; 1-D tensors (norms, biases) are always F32, as llama.cpp
  // expects. Q8_0 rows whose length is not a multiple of 32 fall back to F16, as in
  // llama.cpp's converter.
  GgmlType type = GgmlType::F32;
  std::string name;  // general.name
};

// "f32" | "f16" | "bf16" | "q8_0" → type.
std::optional<GgmlType> ggml_type_from_flag(const std::string& flag);
// llama_ftype value for general.file_type.
uint32_t gguf_file_type(GgmlType type);
// A 2-D tensor's bytes in `type` (Q8_0 falls back to F16 for rows not a multiple of 32);
// the type actually used is returned in `used`.
std::string encode_matrix(const float* data, int64_t rows, int64_t cols, GgmlType type, GgmlType& used);

// Writes `model` with llama.cpp's metadata keys and tensor names (rows reordered as its
// converter does), plus `vocab` when given (padded with unused "[PADn]" tokens up to the
// model's vocabulary size), atomically to `path`.
Status export_gguf(const Model& model, const GgufVocab* vocab, const GgufExportOptions& options,
                   const std::string& path);

}  // namespace peft
