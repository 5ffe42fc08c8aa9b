// PromptTuningConfig: PEFT's fields, read and validated from adapter_config.json and written back.
#include "adapters/prompt/prompt_tuning_config.h"

namespace peft {

Result<PromptTuningConfig> PromptTuningConfig::from_json(const Json& j, const Model& model, const std::string& where) {
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
    return Status::errorf("{}: token_dim {} does not match the model's embedding width {}", where, token_dim,
                          model.config.embd_in());
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

}  // namespace peft
