// Model: a loaded checkpoint — config plus weights bound to the decoder's roles.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"
#include "io/json_file.h"
#include "io/tensor_source.h"
#include "model/arch.h"
#include "model/config.h"

namespace peft {

// A projection y = x Wᵀ + b. W (out, in) F32 or BF16; b (out) F32 or absent (data == nullptr).
struct Linear {
  Tensor w;
  Tensor b;
  int64_t out() const { return w.dim(0); }
  int64_t in() const { return w.dim(1); }
  bool has_bias() const { return b.data != nullptr; }
};

// Norm weight (C) and bias (C, may be absent), both F32.
struct Norm {
  Tensor w;
  Tensor b;
};

struct LayerWeights {
  Norm attn_norm, ffn_norm;          // input norms (BlockSpec::input_norms)
  Norm attn_out_norm, ffn_out_norm;  // output norms (BlockSpec::output_norms)
  Norm q_norm, k_norm;               // (hd) or (H·hd), (Hkv·hd): BlockSpec::qk_norm
  Linear q, k, v;                    // QkvLayout::Separate
  Linear qkv;                        // fused layouts
  Linear o;
  Linear gate, up, down;  // gate only for gated MLPs
};

struct LoadOptions {
  // Storage type of the big matrices (linears, embeddings). nullopt keeps the checkpoint's
  // own precision (F16 is widened to F32, which the GEMMs need; quantized GGUF tensors stay
  // quantized). F32/BF16 apply to every matrix (quantized ones dequantized). Q8_0, Q4_0, Q4_K
  // and NF4 quantize a float checkpoint's block projections at load; its embeddings and head
  // are then BF16, and a projection whose rows are not whole blocks stays BF16 (noted on stderr).
  std::optional<DType> base_dtype;
  // With a quantized base_dtype: the token embedding and the LM head (and OPT's projections
  // in and out) are quantized too, where their rows are whole blocks (--base-dtype q4_k:all).
  bool quantize_embeddings = false;
  // An encoder's task head other than config.json's, or one the checkpoint lacks (a pretrained
  // BertModel / DeBERTa-v3 checkpoint): what transformers' AutoModelFor<Task>.from_pretrained(path,
  // num_labels=K, problem_type=...) builds. Head layers the checkpoint lacks are initialised as
  // transformers' _init_weights does (N(0, initializer_range), zero bias; our own seeded
  // generator, so not torch's numbers); a lacking frozen layer (a pooler) then trains and is
  // saved with the classifier (PEFT's modules_to_save), since nothing else could restore it.
  struct HeadOptions {
    std::optional<TaskSpec> task;  // replaces config.json's (architectures, num_labels, problem_type)
    // Re-initialise the trainable layers the checkpoint has, whatever their size (transformers'
    // ignore_mismatched_sizes); without it a head of another size is an error naming the flag.
    bool reinit = false;
    // PEFT modules_to_save entries besides the classifier ("pooler"): the head layers under them
    // are trainable copies too (an adapter that saved them).
    std::vector<std::string> trainable_modules;
    uint64_t seed = 0;
  } head;
};

// --base-dtype: "f32", "bf16", "q8_0", "q4_0", "q4_k" or "nf4" (any case), the quantized ones
// optionally with ":all"; "" = the checkpoint's own (nullopt). The one parser of the flag.
Result<LoadOptions> load_options_from_base_dtype(std::string_view flag);

struct Model {
  ModelConfig config;
  const ArchDef* arch = nullptr;
  Json hf_config;  // the Hugging Face config.json this model was built from
  TensorNames names;
  std::string path;
  Tensor tok_embd;                  // (V, C)
  Tensor pos_embd;                  // (P, C) for learned positions
  Tensor type_embd;                 // (n_token_types, C) token-type embedding (encoders), F32
  Norm embd_norm;                   // after the embedding (BLOOM), may be absent
  Norm out_norm;                    // final norm
  Linear lm_head;                   // (V, Ce); the token embedding when tied
  Linear project_in;                // (C, Ce) when the embedding width differs (OPT)
  Linear project_out;               // (Ce, C)
  std::vector<float> alibi_slopes;  // (H) for ALiBi models
  Tensor rel_embd;                  // (2S, C) relative-position embeddings as stored (RelativeAttention), F32
  Norm rel_norm;                    // their LayerNorm (norm_rel_ebd), may be absent
  Tensor rel_pos;                   // (2S, C) rel_embd after rel_norm: what the q/k projections see, F32
  std::vector<LayerWeights> layers;
  // The task head (encoders' classifiers): config.json's task, and its layers bound to the
  // checkpoint's tensors (F32), applied in order (model/task_head.h).
  TaskSpec task;
  struct HeadLayer {
    HeadLayerSpec spec;
    Linear lin;          // (out, in)
    bool fresh = false;  // initialised here (LoadOptions::head), not read from the checkpoint
  };
  std::vector<HeadLayer> head;

  // Storage behind the views above: the checkpoint (mmaps) and converted copies.
  std::shared_ptr<const TensorSource> source;
  std::vector<OwnedTensor> owned;
};

// Replaces a weight by its merged f32 values (adapters' merge_into): stored back in the old
// float dtype, or kept F32 when the old weight was quantized (the exact merge; a quantized
// writer requantizes it and reports the error that adds).
void replace_weight(Model& m, Tensor& w, OwnedTensor merged_f32);

// Load a Hugging Face model folder (config.json + safetensors).
Result<std::unique_ptr<Model>> load_model(const std::string& path, const LoadOptions& options = {});

// Build a model from a parsed Hugging Face config and a tensor source with HF names (what
// every format loader reduces to). `where` names the config's origin for errors.
Result<std::unique_ptr<Model>> load_model_from(const Json& config, const std::string& where,
                                               std::shared_ptr<const TensorSource> source, const std::string& path,
                                               const LoadOptions& options);

// Whether the checkpoint at `path` (a model folder) is an encoder, from its config.json alone;
// false for GGUF files and decoders.
Result<bool> checkpoint_is_encoder(const std::string& path);

// Generation and LM scoring need a causal LM; an encoder (BERT, RoBERTa) is refused with its
// path named and what it can do instead (`what`: "peft generate", ...).
Status check_causal_lm(const Model& model, const std::string& what);

// The number of base parameters bound (embeddings, norms, projections, head).
int64_t model_param_count(const Model& model);

// Bind the checkpoint's tensors to the model's roles (checks names and shapes).
Status bind_weights(Model& model, const LoadOptions& options);

}  // namespace peft
