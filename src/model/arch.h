// Architecture registry: each archs/<arch>.cpp maps its config.json keys and tensor names.
#pragma once
#include <string>
#include <vector>

#include "core/status.h"
#include "io/json_file.h"
#include "model/config.h"
#include "model/task_head.h"

namespace peft {

// Hugging Face tensor names; "{}" stands for the layer index. An empty name means the
// architecture has no such tensor.
struct TensorNames {
  std::string tok_embd, pos_embd, type_embd, embd_norm_w, embd_norm_b, out_norm_w, out_norm_b, lm_head_w, lm_head_b,
      project_in_w, project_out_w;
  std::string attn_norm_w, attn_norm_b, ffn_norm_w, ffn_norm_b;
  std::string attn_out_norm_w, ffn_out_norm_w;  // output norms (BlockSpec::output_norms)
  std::string q_norm_w, k_norm_w;               // q/k norms (BlockSpec::qk_norm)
  std::string q_w, q_b, k_w, k_b, v_w, v_b, qkv_w, qkv_b, o_w, o_b;
  std::string gate_w, gate_b, up_w, up_b, down_w, down_b;
  std::string rel_embd, rel_norm_w, rel_norm_b;  // DeBERTa's relative-position embeddings (RelativeAttention)
  bool conv1d = false;                           // GPT-2's Conv1D stores linear weights (in, out)
};

class GgufFile;    // io/gguf.h
class GgufWriter;  // io/gguf_writer.h

// How llama.cpp holds an architecture, as its converter (convert_hf_to_gguf.py) writes it.
// Tensor names are llama.cpp's, the same for every architecture (model/gguf_names.h).
struct GgufArchDef {
  const char* name;  // general.architecture
  // Row orders the converter gives the attention projections:
  bool rotary_interleaved_qk;  // q/k rows per head in interleaved-pair order (LLaMA)
  bool qkv_blocked;            // a per-head fused qkv stored as [q | k | v] (BLOOM, GPT-NeoX)
  // The file's metadata as config.json keys, added to `config` (which already holds
  // model_type, vocab_size, tie_word_embeddings and the special ids).
  Result<Json> (*read_config)(const GgufFile& file, Json config);
  // The hyper-parameter keys of an exported model; refuses what llama.cpp cannot express.
  Status (*write_hparams)(const ModelConfig& config, GgufWriter& writer, const std::string& where);
  const char* model_type;  // the config.json model_type a file of this architecture loads as
};

// The modules adapters wrap when a config names none: Hugging Face PEFT's and LLM-Adapters'
// per-architecture tables, by what they select (each method picks its role). Comma-separated
// module names, matched as target_modules are.
struct DefaultTargets {
  const char* query_value;       // the attention's query and value projections
  const char* scaled;            // keys, values and the MLP output, as PEFT's scaling table has them
  const char* scaled_input;      // those of them scaled on their input (feedforward_modules)
  const char* mlp;               // the MLP projections (series adapters)
  const char* mlp_output;        // the MLP's output projection (Pfeiffer placement)
  const char* attention_inputs;  // the query/key/value projections (parallel adapters)
  const char* block_outputs;     // the attention and MLP output projections (Houlsby placement)
};

// A comma-separated target list as names.
std::vector<std::string> target_list(const char* comma_separated);

struct ArchDef {
  const char* model_type;  // config.json "model_type"
  // Reads config.json (already parsed); `where` names the file for errors.
  Result<ModelConfig> (*parse_config)(const Json& config, const std::string& where);
  TensorNames (*tensor_names)(const ModelConfig& config);
  DefaultTargets targets;
  const GgufArchDef* gguf = nullptr;  // nullptr: llama.cpp has no such architecture
  // The keys of math_keys.cpp's list (those that change the computation) this architecture
  // reads; loading refuses the others when set (parse_model_config).
  std::vector<std::string> reads = {};
  // The layers of the architecture's task head (SeqCls / TokenCls) for `num_labels` outputs,
  // in order; nullptr: the architecture has task heads only as an LM.
  std::vector<HeadLayerSpec> (*task_head)(TaskType task, const ModelConfig& config, int64_t num_labels) = nullptr;
};

// nullptr when unknown.
const ArchDef* find_arch(const std::string& model_type);
// Every registered architecture, in registry order.
const std::vector<const ArchDef*>& all_archs();
// By general.architecture; nullptr when no architecture of ours is stored that way.
const GgufArchDef* find_gguf_arch(const std::string& gguf_arch);
// "bloom, gpt2, ..." for error messages.
std::string supported_gguf_archs();
// "gpt2, llama, ..." for error messages.
std::string supported_archs();

// Shared helpers for arch files.
std::string layer_name(const std::string& pattern, int64_t layer);
// "model.layers.{}.self_attn.q_proj" + ".weight" / ".bias" pairs.
inline std::string weight_of(const std::string& module) { return module + ".weight"; }
inline std::string bias_of(const std::string& module) { return module + ".bias"; }

}  // namespace peft

namespace peft {
// Checks the sizes every architecture shares (positive, divisible heads, ...) and fills
// head_dim / attn_scale defaults. Errors name `where` and the field.
Status validate_config(ModelConfig& config, const std::string& where);
}  // namespace peft
