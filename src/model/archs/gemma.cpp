// Gemma: the LLaMA layout with embeddings scaled by √C, RMSNorms that scale by (1 + w), a
// tanh-GELU gated MLP, a tied head and head_dim 256 (not C / H) by default. Also the parts
// Gemma 2 and 3 share (gemma_family.h).
#include <fmt/format.h>

#include <cmath>

#include "io/gguf.h"
#include "model/archs/gemma_family.h"

namespace peft {

Result<ModelConfig> parse_gemma_family(const Json& j, const std::string& where, const GemmaGeneration& gen) {
  if (!j.is_object()) return Status::errorf("{}: expected a JSON object, found {}", where, j.type_name());
  Json flat = j;
  const bool has_parameters = j.contains("rope_parameters") && !j["rope_parameters"].is_null();
  if (!j.contains("rope_theta") && !has_parameters) flat["rope_theta"] = gen.default_theta;
  if (!j.contains("max_position_embeddings")) flat["max_position_embeddings"] = gen.default_max_positions;
  // The activation is read below, under the generation's key (transformers 4.57 reads
  // hidden_act for Gemma 1, hidden_activation for Gemma 2/3, and ignores the other).
  flat.erase("hidden_act");
  PEFT_ASSIGN_OR_RETURN(ModelConfig c, parse_llama_family(flat, where, gen.arch, false));
  // GemmaConfig's defaults where LlamaConfig's differ.
  PEFT_ASSIGN_OR_RETURN(c.head_dim, json_get_int_or(j, "head_dim", 256, where));
  PEFT_ASSIGN_OR_RETURN(c.block.tied_embeddings, json_get_bool_or(j, "tie_word_embeddings", true, where));
  PEFT_ASSIGN_OR_RETURN(int64_t bos, json_get_int_or(j, "bos_token_id", 2, where));
  c.bos_id = int32_t(bos);
  if (!j.contains("eos_token_id")) c.eos_id = 1;
  PEFT_ASSIGN_OR_RETURN(std::string act, json_get_string_or(j, gen.activation_key, "gelu_pytorch_tanh", where));
  const auto activation = activation_from_hf_name(act);
  if (!activation) return Status::errorf("{}: unknown {} '{}'", where, gen.activation_key, act);
  c.block.act = *activation;
  // torch.tensor(hidden_size ** 0.5): the double root rounded to fp32 once.
  c.embd_scale = float(std::sqrt(double(c.n_embd)));
  c.embd_scale_tokens_only = !gen.scaled_inputs_embeds;
  c.norm_weight_offset = 1.0f;
  c.block.output_norms = gen.sandwich_norms;
  return c;
}

Status read_sliding_layers(const Json& j, const std::string& where, int64_t pattern, ModelConfig& c) {
  if (c.n_layer <= 0 || c.n_layer > 100000)
    return Status::errorf("{}: num_hidden_layers must be in [1, 100000], found {}", where, c.n_layer);
  c.sliding_layers.clear();
  if (j.contains("layer_types") && !j["layer_types"].is_null()) {
    const Json& types = j["layer_types"];
    if (!types.is_array() || int64_t(types.size()) != c.n_layer)
      return Status::errorf("{}: layer_types must list one type per layer ({} layers)", where, c.n_layer);
    for (const Json& t : types) {
      if (t != "sliding_attention" && t != "full_attention")
        return Status::errorf("{}: layer_types entry {} is not supported (sliding_attention, full_attention)", where,
                              t.dump());
      c.sliding_layers.push_back(t == "sliding_attention");
    }
  } else {
    if (pattern <= 0) return Status::errorf("{}: sliding_window_pattern must be positive, found {}", where, pattern);
    for (int64_t l = 0; l < c.n_layer; ++l) c.sliding_layers.push_back((l + 1) % pattern != 0);
  }
  PEFT_ASSIGN_OR_RETURN(c.sliding_window, json_get_int_or(j, "sliding_window", 4096, where));
  bool any = false;
  for (uint8_t s : c.sliding_layers) any = any || s;
  if (any && c.sliding_window <= 0)
    return Status::errorf("{}: sliding-window layers need a positive sliding_window, found {}", where,
                          c.sliding_window);
  return Status::ok();
}

Status read_query_pre_attn_scalar(const Json& j, const std::string& where, ModelConfig& c) {
  PEFT_ASSIGN_OR_RETURN(double scalar, json_get_float_or(j, "query_pre_attn_scalar", 256.0, where));
  if (!(scalar > 0) || !std::isfinite(scalar))
    return Status::errorf("{}: query_pre_attn_scalar must be positive, found {}", where, scalar);
  c.attn_scale = float(std::pow(scalar, -0.5));
  return Status::ok();
}

TensorNames gemma_names(const ModelConfig& c) {
  TensorNames n = llama_family_names(c);
  if (c.block.output_norms) {  // Gemma 2/3: post_attention_layernorm is the attention's output norm
    n.attn_out_norm_w = "model.layers.{}.post_attention_layernorm.weight";
    n.ffn_norm_w = "model.layers.{}.pre_feedforward_layernorm.weight";
    n.ffn_out_norm_w = "model.layers.{}.post_feedforward_layernorm.weight";
  }
  if (c.block.qk_norm != QkNorm::None) {
    n.q_norm_w = "model.layers.{}.self_attn.q_norm.weight";
    n.k_norm_w = "model.layers.{}.self_attn.k_norm.weight";
  }
  return n;
}

std::vector<std::string> gemma_reads(std::vector<std::string> more) { return llama_family_reads(std::move(more)); }

Result<Json> read_gemma_gguf(const GgufFile& f, Json c, const char* activation_key) {
  PEFT_ASSIGN_OR_RETURN(std::string arch, f.get_string("general.architecture"));
  PEFT_ASSIGN_OR_RETURN(c, read_llama_family_gguf(f, std::move(c)));
  // Gemma's head_dim default (256) is not C / H, so it is always stated.
  PEFT_ASSIGN_OR_RETURN(int64_t heads, f.get_int(arch + ".attention.head_count"));
  PEFT_ASSIGN_OR_RETURN(int64_t embd, f.get_int(arch + ".embedding_length"));
  PEFT_ASSIGN_OR_RETURN(c["head_dim"], f.get_int_or(arch + ".attention.key_length", embd / heads));
  c.erase("hidden_act");
  c[activation_key] = "gelu_pytorch_tanh";  // llama.cpp's gemma graphs: tanh GELU
  return c;
}

bool llama_cpp_gemma_scale_matches(const ModelConfig& c, int64_t n_layer_27b) {
  const int64_t d = c.n_layer == n_layer_27b ? c.n_embd / c.n_head : c.head_dim;
  // Within float rounding: llama.cpp computes 1.0f / sqrtf(d), a config d^-0.5 in double.
  return std::fabs(c.attn_scale * std::sqrt(double(d)) - 1.0) < 1e-6;
}

Result<int64_t> sliding_period(const ModelConfig& c, const std::string& what, const std::string& where) {
  int64_t period = c.n_layer + 1;  // no global layer: all sliding
  for (int64_t l = 0; l < c.n_layer; ++l)
    if (!c.is_sliding(l)) {
      period = l + 1;
      break;
    }
  for (int64_t l = 0; l < c.n_layer; ++l)
    if (c.is_sliding(l) != (l % period < period - 1))
      return Status::errorf(
          "{}: cannot export to GGUF '{}': llama.cpp's sliding layers repeat with one period (every {}th layer "
          "global, from the first global layer), this model's layer {} is {}",
          where, what, period, l, c.is_sliding(l) ? "sliding" : "global");
  return period;
}

Status read_gemma_gguf_windows(const GgufFile& f, const std::string& arch, int64_t default_window,
                               int64_t default_period, Json& c) {
  PEFT_ASSIGN_OR_RETURN(int64_t window, f.get_int_or(arch + ".attention.sliding_window", default_window));
  PEFT_ASSIGN_OR_RETURN(int64_t period, f.get_int_or(arch + ".attention.sliding_window_pattern", default_period));
  PEFT_ASSIGN_OR_RETURN(int64_t layers, f.get_int(arch + ".block_count"));
  if (layers <= 0 || layers > 100000)
    return Status::errorf("{}: {}.block_count must be in [1, 100000], found {}", f.path(), arch, layers);
  if (period <= 0)
    return Status::errorf("{}: {}.attention.sliding_window_pattern must be positive, found {}", f.path(), arch, period);
  Json types = Json::array();
  for (int64_t l = 0; l < layers; ++l)
    types.push_back(window > 0 && l % period < period - 1 ? "sliding_attention" : "full_attention");
  c["sliding_window"] = window;
  c["layer_types"] = types;
  return Status::ok();
}

namespace {

const GemmaGeneration kGemma1{
    .arch = "gemma", .activation_key = "hidden_act", .default_theta = 10000.0, .default_max_positions = 8192};

Result<ModelConfig> parse_gemma(const Json& j, const std::string& where) {
  PEFT_ASSIGN_OR_RETURN(ModelConfig c, parse_gemma_family(j, where, kGemma1));
  PEFT_TRY(validate_config(c, where));
  return c;
}

Result<Json> read_gemma1_gguf(const GgufFile& f, Json c) { return read_gemma_gguf(f, std::move(c), "hidden_act"); }

Status write_gemma_gguf(const ModelConfig& c, GgufWriter& w, const std::string& where) {
  if (c.block.act != Activation::GeluTanh)
    fmt::print(stderr,
               "warning: {}: llama.cpp's gemma computes the tanh approximation of GELU; this model's exact GELU "
               "differs from it by up to ~1e-3 per activation\n",
               where);
  return write_llama_family_gguf("gemma", {.act = c.block.act, .gemma = true}, c, w, where);
}

// llama.cpp's gemma: NeoX RoPE (Hugging Face's rows), norms stored as 1 + w, the head tied.
const GgufArchDef kGemmaGguf{"gemma", false, false, read_gemma1_gguf, write_gemma_gguf, "gemma"};

}  // namespace

extern const ArchDef kGemmaArch{"gemma", parse_gemma, gemma_names, kLlamaFamilyTargets, &kGemmaGguf, gemma_reads()};

}  // namespace peft
