// llama.cpp's tensor names for every role of a model, and the row reorders its converter applies.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "model/arch.h"
#include "model/model.h"
#include "model/site.h"

namespace peft {

// How llama.cpp's converter reorders the rows of a tensor (weight rows = output features;
// a bias is one row per feature, row_bytes one element).
enum class GgufRows {
  Same,
  Interleave,  // per head of hd rows: HF row s·hd/2 + i ↔ GGUF row 2i + s (LLaMA q/k)
  QkvBlocked,  // per-head fused [q_h | k_h | v_h] ↔ [q | k | v] (BLOOM, GPT-NeoX)
};
struct GgufRowFix {
  GgufRows rows = GgufRows::Same;
  int64_t heads = 0;  // q heads (Interleave on q, QkvBlocked), kv heads (Interleave on k)
};
// `rows` rows of `row_bytes` each from Hugging Face order to llama.cpp's (to_gguf) or back.
// Errors when the rows do not split into the heads.
Status reorder_rows(const GgufRowFix& fix, bool to_gguf, void* dst, const void* src, int64_t rows, size_t row_bytes,
                    const std::string& what);

// One tensor role: llama.cpp's name (after "blk.N." for per-layer roles), its Hugging Face
// name pattern in TensorNames, and where the loaded model keeps it (logical (out, in) layout).
struct GgufRole {
  const char* gguf;  // "attn_q.weight", "token_embd.weight"
  std::string TensorNames::*hf;
  bool per_layer;
  Tensor (*bound)(const Model& model, int64_t layer);  // empty (no data) when absent
  bool linear_weight;                                  // a projection matrix (GPT-2 keeps these Conv1D-transposed)
  // A norm's weight. llama.cpp's graphs scale by the stored weight, so a converter stores the
  // effective one (ModelConfig::norm_weight_offset added: Gemma's 1 + w), as the loaded Norm is.
  bool norm_weight = false;
};
const std::vector<GgufRole>& gguf_roles();
// "blk.3.attn_q.weight" / "token_embd.weight".
std::string gguf_tensor_name(const GgufRole& role, int64_t layer);
// The row reorder of `role` for a model of `arch` (config for head counts).
GgufRowFix gguf_row_fix(const GgufArchDef& arch, const GgufRole& role, const ModelConfig& config);

// The projection behind a GGUF tensor name ("blk.3.attn_q.weight" → {AttnQ, 3}); nullopt
// for other tensors (embeddings, norms, biases).
struct GgufLinear {
  Site site;
  int64_t layer;
};
std::optional<GgufLinear> gguf_linear_of(const std::string& gguf_name);
// "blk.3.attn_q.weight" for a site.
std::string gguf_linear_name(Site site, int64_t layer);
// The role of a site's weight, for its row fix.
const GgufRole& gguf_role_of(Site site);

// The hyper-parameter keys every llama.cpp architecture has ("<arch>.context_length",
// embedding_length, block_count, feed_forward_length, attention.head_count).
void write_gguf_common_hparams(GgufWriter& writer, const std::string& arch, const ModelConfig& config);

}  // namespace peft
