// SmolLM3: the LLaMA layout where every no_rope_layer_interval-th layer (or those no_rope_layers
// marks 0) attends without rotary positions (NoPE).
#include <fmt/format.h>

#include "io/gguf.h"
#include "model/archs/llama_family.h"

namespace peft {

namespace {

Result<ModelConfig> parse_smollm3(const Json& j, const std::string& where) {
  PEFT_ASSIGN_OR_RETURN(ModelConfig c, parse_llama_family(j, where, "smollm3", false));
  // SmolLM3Config's own defaults where they differ from LLaMA's: it leaves tie_word_embeddings
  // to PretrainedConfig (true; save_pretrained then omits it) and its RoPE base is 2e6.
  PEFT_ASSIGN_OR_RETURN(c.block.tied_embeddings, json_get_bool_or(j, "tie_word_embeddings", true, where));
  if (!j.contains("rope_theta") && !j.contains("rope_parameters")) c.block.rope.theta = 2000000.0f;
  PEFT_ASSIGN_OR_RETURN(bool sliding, json_get_bool_or(j, "use_sliding_window", false, where));
  if (sliding) return Status::errorf("{}: use_sliding_window=true is not supported yet for smollm3", where);
  if (j.contains("layer_types") && !j["layer_types"].is_null()) {
    if (!j["layer_types"].is_array()) return Status::errorf("{}: layer_types must be a list", where);
    for (const Json& t : j["layer_types"])
      if (t != "full_attention")
        return Status::errorf("{}: layer_types entry {} is not supported yet for smollm3 (full_attention only)", where,
                              t.dump());
  }
  // transformers: no_rope_layers[l] = 1 when layer l uses RoPE; by default every interval-th
  // layer (l + 1 divisible by it) does not.
  PEFT_ASSIGN_OR_RETURN(int64_t interval, json_get_int_or(j, "no_rope_layer_interval", 4, where));
  // One flag per layer is built below: a layer count no model has is refused first (a fuzzer's
  // 1e9 took 29 s here).
  if (c.n_layer <= 0 || c.n_layer > 100000)
    return Status::errorf("{}: num_hidden_layers must be in [1, 100000], found {}", where, c.n_layer);
  if (j.contains("no_rope_layers") && !j["no_rope_layers"].is_null()) {
    const Json& flags = j["no_rope_layers"];
    if (!flags.is_array() || int64_t(flags.size()) != c.n_layer)
      return Status::errorf("{}: no_rope_layers must list one 0/1 per layer ({} layers)", where, c.n_layer);
    for (const Json& f : flags) {
      if (!f.is_number_integer() || (f != 0 && f != 1))
        return Status::errorf("{}: no_rope_layers entries must be 0 or 1, found {}", where, f.dump());
      c.rope_layers.push_back(uint8_t(f.get<int>()));
    }
  } else {
    if (interval <= 0) return Status::errorf("{}: no_rope_layer_interval must be positive, found {}", where, interval);
    for (int64_t l = 0; l < c.n_layer; ++l) c.rope_layers.push_back((l + 1) % interval != 0);
  }
  PEFT_TRY(validate_config(c, where));
  return c;
}

// llama.cpp's smollm3 skips RoPE on every 4th layer, fixed (no metadata key).
Result<Json> read_smollm3_gguf(const GgufFile& f, Json c) {
  PEFT_ASSIGN_OR_RETURN(c, read_llama_family_gguf(f, std::move(c)));
  c["no_rope_layer_interval"] = 4;
  return c;
}

Status write_smollm3_gguf(const ModelConfig& c, GgufWriter& w, const std::string& where) {
  for (int64_t l = 0; l < c.n_layer; ++l)
    if (c.uses_rope(l) != ((l + 1) % 4 != 0))
      return Status::errorf(
          "{}: cannot export to GGUF 'smollm3': llama.cpp skips RoPE on every 4th layer exactly, this model {} it "
          "on layer {}",
          where, c.uses_rope(l) ? "uses" : "skips", l);
  return write_llama_family_gguf("smollm3", {.nope_layers = true}, c, w, where);
}

const GgufArchDef kSmollm3Gguf{"smollm3", true, false, read_smollm3_gguf, write_smollm3_gguf, "smollm3"};

}  // namespace

extern const ArchDef kSmollm3Arch{"smollm3",
                                  parse_smollm3,
                                  llama_family_names,
                                  kLlamaFamilyTargets,
                                  &kSmollm3Gguf,
                                  llama_family_reads({"no_rope_layers", "no_rope_layer_interval", "layer_types",
                                                      "use_sliding_window", "sliding_window"})};

}  // namespace peft
