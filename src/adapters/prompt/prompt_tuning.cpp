// Prompt tuning: the virtual embeddings and their gradient (summed over the batch).
#include "adapters/prompt/prompt_tuning.h"

#include <cstring>

#include "adapters/registry.h"
#include "core/rng.h"
#include "tokenizer/tokenizer.h"

namespace peft {

Result<PromptTuningConfig> PromptTuningConfig::from_json(const Json& j, const Model& model,
                                                         const std::string& where) {
  PromptTuningConfig c;
  PEFT_ASSIGN_OR_RETURN(c.num_virtual_tokens, json_get_int_or(j, "num_virtual_tokens", 20, where));
  if (c.num_virtual_tokens <= 0)
    return Status::errorf("{}: num_virtual_tokens must be positive, found {}", where, c.num_virtual_tokens);
  if (c.num_virtual_tokens >= model.config.n_ctx)
    return Status::errorf("{}: num_virtual_tokens {} leaves no room in the model's context {}", where,
                          c.num_virtual_tokens, model.config.n_ctx);
  PEFT_ASSIGN_OR_RETURN(c.init, json_get_string_or(j, "prompt_tuning_init", "RANDOM", where));
  if (c.init != "RANDOM" && c.init != "TEXT")
    return Status::errorf("{}: prompt_tuning_init must be RANDOM or TEXT, found '{}'", where, c.init);
  PEFT_ASSIGN_OR_RETURN(c.init_text, json_get_string_or(j, "prompt_tuning_init_text", "", where));
  if (c.init == "TEXT" && c.init_text.empty())
    return Status::errorf("{}: prompt_tuning_init TEXT needs prompt_tuning_init_text", where);
  PEFT_ASSIGN_OR_RETURN(int64_t token_dim, json_get_int_or(j, "token_dim", model.config.embd_in(), where));
  if (token_dim != model.config.embd_in())
    return Status::errorf("{}: token_dim {} does not match the model's embedding width {}", where,
                          token_dim, model.config.embd_in());
  return c;
}

Json PromptTuningConfig::to_json(const Model& model) const {
  return Json{{"peft_type", "PROMPT_TUNING"},
              {"task_type", "CAUSAL_LM"},
              {"num_virtual_tokens", num_virtual_tokens},
              {"token_dim", model.config.embd_in()},
              {"num_transformer_submodules", 1},
              {"num_attention_heads", model.config.n_head},
              {"num_layers", model.config.n_layer},
              {"prompt_tuning_init", init},
              {"prompt_tuning_init_text", init == "TEXT" ? Json(init_text) : Json()},
              {"tokenizer_name_or_path", init == "TEXT" ? Json(model.path) : Json()},
              {"inference_mode", true},
              {"revision", nullptr},
              {"auto_mapping", nullptr}};
}

Result<std::unique_ptr<PromptTuningAdapter>> PromptTuningAdapter::create(
    const Model& model, const PromptTuningConfig& config, uint64_t seed) {
  std::unique_ptr<PromptTuningAdapter> a(new PromptTuningAdapter(model, config));
  const int64_t nv = config.num_virtual_tokens, Ce = model.config.embd_in();
  a->params_.add("prompt_embeddings", {nv, Ce});
  PEFT_TRY(a->params_.finalize(model));
  float* P = a->params_.values();
  if (config.init == "RANDOM") {  // nn.Embedding's own init
    Rng rng(seed);
    for (int64_t i = 0; i < nv * Ce; ++i) P[i] = rng.normal();
    return a;
  }
  // TEXT: the embeddings of the text's tokens, repeated or cut to nv (PEFT's rule).
  PEFT_ASSIGN_OR_RETURN(auto tok, load_tokenizer(model.path));
  std::vector<int32_t> ids = tok->encode(config.init_text, true);  // special tokens included, as tokenizer(text)
  if (ids.empty()) return Status::error("prompt_tuning_init_text encodes to no tokens");
  OwnedTensor table = to_f32(model.tok_embd);
  for (int64_t v = 0; v < nv; ++v) {
    const int32_t id = ids[size_t(v) % ids.size()];
    std::memcpy(P + v * Ce, table.f32() + int64_t(id) * Ce, size_t(Ce) * 4);
  }
  return a;
}

void PromptTuningAdapter::virtual_embeddings(float* out) {
  std::memcpy(out, params_.values(), size_t(params_.numel()) * 4);
}

// Every row starts with the same virtual tokens, so their gradient sums over the batch.
void PromptTuningAdapter::virtual_embeddings_backward(const float* d, int64_t B, int64_t rows) {
  const int64_t Ce = model_->config.embd_in(), n = config_.num_virtual_tokens * Ce;
  float* g = params_.grads();
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < n; ++i) g[i] += d[b * rows * Ce + i];
}

namespace {
using T = MethodFlag::Type;
}  // namespace

extern const MethodDef kPromptTuningMethod{
    "prompt",
    "PROMPT_TUNING",
    create_from_json<PromptTuningConfig, PromptTuningAdapter>,
    {
        {"--num-virtual-tokens", "num_virtual_tokens", T::Int, "virtual tokens (default 20)"},
        {"--prompt-tuning-init", "prompt_tuning_init", T::String, "RANDOM (default) or TEXT"},
        {"--prompt-tuning-init-text", "prompt_tuning_init_text", T::String, "text for TEXT init"},
    }};

}  // namespace peft
