// PrefixTuningConfig: PEFT's fields, read and validated from adapter_config.json and written back.
#include "adapters/prefix/prefix_tuning_config.h"

namespace peft {

Result<PrefixTuningConfig> PrefixTuningConfig::from_json(const Json& j, const Model& model, const std::string& where) {
  PrefixTuningConfig c;
  const ModelConfig& mc = model.config;
  if (!mc.kv_prefix)
    return Status::errorf(
        "{}: prefix tuning needs an attention that takes past key/value rows, and {}'s does not (transformers' "
        "model has no past_key_values either); use prompt tuning (--method prompt) or another method",
        where, mc.arch);
  PEFT_ASSIGN_OR_RETURN(c.num_virtual_tokens, json_get_int_or(j, "num_virtual_tokens", 20, where));
  if (c.num_virtual_tokens <= 0)
    return Status::errorf("{}: num_virtual_tokens must be positive, found {}", where, c.num_virtual_tokens);
  if (c.num_virtual_tokens >= mc.n_ctx)
    return Status::errorf("{}: num_virtual_tokens {} leaves no room in the model's context {}", where,
                          c.num_virtual_tokens, mc.n_ctx);
  PEFT_ASSIGN_OR_RETURN(bool projection, json_get_bool_or(j, "prefix_projection", false, where));
  PEFT_ASSIGN_OR_RETURN(bool inference, json_get_bool_or(j, "inference_mode", false, where));
  c.projection = projection && !inference;  // a saved adapter holds the folded table
  PEFT_ASSIGN_OR_RETURN(c.encoder_hidden_size, json_get_int_or(j, "encoder_hidden_size", mc.n_embd, where));
  if (c.projection && c.encoder_hidden_size <= 0)
    return Status::errorf("{}: encoder_hidden_size must be positive, found {}", where, c.encoder_hidden_size);
  for (const char* bad : {"use_parallel_adapter", "use_adapterp"})
    if (j.contains(bad) && j[bad].is_boolean() && j[bad].get<bool>())
      return Status::errorf("{}: {} does not apply to prefix tuning", where, bad);
  // PEFT's geometry fields must describe this model (GQA: heads = kv heads, token_dim = kv width).
  PEFT_ASSIGN_OR_RETURN(int64_t layers, json_get_int_or(j, "num_layers", mc.n_layer, where));
  PEFT_ASSIGN_OR_RETURN(int64_t dim, json_get_int_or(j, "token_dim", mc.kv_dim(), where));
  PEFT_ASSIGN_OR_RETURN(int64_t heads, json_get_int_or(j, "num_attention_heads", mc.n_head_kv, where));
  if (layers != mc.n_layer || dim != mc.kv_dim() || heads != mc.n_head_kv)
    return Status::errorf("{}: num_layers/token_dim/num_attention_heads = {}/{}/{} but the model has {}/{}/{}", where,
                          layers, dim, heads, mc.n_layer, mc.kv_dim(), mc.n_head_kv);
  return c;
}

Json PrefixTuningConfig::to_json(const Model& model) const {
  const ModelConfig& mc = model.config;
  return Json{{"peft_type", "PREFIX_TUNING"},
              {"task_type", "CAUSAL_LM"},
              {"num_virtual_tokens", num_virtual_tokens},
              {"token_dim", mc.kv_dim()},
              {"num_transformer_submodules", 1},
              {"num_attention_heads", mc.n_head_kv},
              {"num_layers", mc.n_layer},
              {"encoder_hidden_size", encoder_hidden_size > 0 ? encoder_hidden_size : mc.n_embd},
              {"prefix_projection", projection},
              {"inference_mode", true},
              {"revision", nullptr},
              {"auto_mapping", nullptr}};
}

}  // namespace peft
