// Prefix tuning: per-layer key/value prefixes read from (and gradients written to) one table.
#include "adapters/prefix/prefix_tuning.h"

#include "adapters/registry.h"
#include "core/rng.h"

namespace peft {

Result<PrefixTuningConfig> PrefixTuningConfig::from_json(const Json& j, const Model& model,
                                                         const std::string& where) {
  PrefixTuningConfig c;
  const ModelConfig& mc = model.config;
  PEFT_ASSIGN_OR_RETURN(c.num_virtual_tokens, json_get_int_or(j, "num_virtual_tokens", 20, where));
  if (c.num_virtual_tokens <= 0)
    return Status::errorf("{}: num_virtual_tokens must be positive, found {}", where, c.num_virtual_tokens);
  if (c.num_virtual_tokens >= mc.n_ctx)
    return Status::errorf("{}: num_virtual_tokens {} leaves no room in the model's context {}", where,
                          c.num_virtual_tokens, mc.n_ctx);
  PEFT_ASSIGN_OR_RETURN(bool projection, json_get_bool_or(j, "prefix_projection", false, where));
  if (projection)
    return Status::errorf("{}: prefix_projection=true is not supported yet", where);
  for (const char* bad : {"use_parallel_adapter", "use_adapterp"})
    if (j.contains(bad) && j[bad].is_boolean() && j[bad].get<bool>())
      return Status::errorf("{}: {} does not apply to prefix tuning", where, bad);
  // PEFT's geometry fields must describe this model (GQA: heads = kv heads, token_dim = kv width).
  PEFT_ASSIGN_OR_RETURN(int64_t layers, json_get_int_or(j, "num_layers", mc.n_layer, where));
  PEFT_ASSIGN_OR_RETURN(int64_t dim, json_get_int_or(j, "token_dim", mc.kv_dim(), where));
  PEFT_ASSIGN_OR_RETURN(int64_t heads, json_get_int_or(j, "num_attention_heads", mc.n_head_kv, where));
  if (layers != mc.n_layer || dim != mc.kv_dim() || heads != mc.n_head_kv)
    return Status::errorf("{}: num_layers/token_dim/num_attention_heads = {}/{}/{} but the model has {}/{}/{}",
                          where, layers, dim, heads, mc.n_layer, mc.kv_dim(), mc.n_head_kv);
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
              {"encoder_hidden_size", mc.n_embd},
              {"prefix_projection", false},
              {"inference_mode", true},
              {"revision", nullptr},
              {"auto_mapping", nullptr}};
}

Result<std::unique_ptr<PrefixTuningAdapter>> PrefixTuningAdapter::create(
    const Model& model, const PrefixTuningConfig& config, uint64_t seed) {
  std::unique_ptr<PrefixTuningAdapter> a(new PrefixTuningAdapter(model, config));
  const ModelConfig& mc = model.config;
  a->params_.add("prompt_embeddings", {config.num_virtual_tokens, 2 * mc.n_layer * mc.kv_dim()});
  a->params_.finalize();
  Rng rng(seed);  // nn.Embedding's N(0, 1)
  for (int64_t i = 0; i < a->params_.numel(); ++i) a->params_.values()[i] = rng.normal();
  return a;
}

int64_t PrefixTuningAdapter::offset(int64_t layer, bool value, int64_t v, int64_t h, int64_t d) const {
  const ModelConfig& mc = model_->config;
  const int64_t L = mc.n_layer, D = mc.kv_dim(), hd = mc.head_dim, nv = config_.num_virtual_tokens;
  const int64_t row = 2 * L * D;  // one virtual token's slice of E
  if (mc.arch != "bloom") return v * row + (2 * layer + (value ? 1 : 0)) * D + h * hd + d;
  if (value) return v * row + (L + layer) * D + h * hd + d;
  // BLOOM key: element (h, d, v) of the (H, hd, nv) key layout is flat[h·hd·nv + d·nv + v]
  // of the slot's memory read row-major over (v', h', d').
  const int64_t f = h * hd * nv + d * nv + v;
  return (f / D) * row + layer * D + f % D;
}

void PrefixTuningAdapter::prefix_kv(int64_t layer, float* k, float* v, int64_t B, int64_t kv_rows) {
  const ModelConfig& mc = model_->config;
  const int64_t D = mc.kv_dim(), hd = mc.head_dim, nv = config_.num_virtual_tokens;
  const float* E = params_.values();
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < nv; ++t)
      for (int64_t h = 0; h < mc.n_head_kv; ++h)
        for (int64_t d = 0; d < hd; ++d) {
          const int64_t dst = (b * kv_rows + t) * D + h * hd + d;
          k[dst] = E[offset(layer, false, t, h, d)];
          v[dst] = E[offset(layer, true, t, h, d)];
        }
}

void PrefixTuningAdapter::prefix_kv_backward(int64_t layer, const float* dk, const float* dv,
                                             int64_t B, int64_t kv_rows) {
  const ModelConfig& mc = model_->config;
  const int64_t D = mc.kv_dim(), hd = mc.head_dim, nv = config_.num_virtual_tokens;
  float* g = params_.grads();
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < nv; ++t)
      for (int64_t h = 0; h < mc.n_head_kv; ++h)
        for (int64_t d = 0; d < hd; ++d) {
          const int64_t src = (b * kv_rows + t) * D + h * hd + d;
          g[offset(layer, false, t, h, d)] += dk[src];
          g[offset(layer, true, t, h, d)] += dv[src];
        }
}

namespace {
Result<std::unique_ptr<Adapter>> create_prefix(const Model& model, const Json& config,
                                               const std::string& where, uint64_t seed) {
  PEFT_ASSIGN_OR_RETURN(PrefixTuningConfig c, PrefixTuningConfig::from_json(config, model, where));
  PEFT_ASSIGN_OR_RETURN(auto adapter, PrefixTuningAdapter::create(model, c, seed));
  return std::unique_ptr<Adapter>(std::move(adapter));
}
using T = MethodFlag::Type;
}  // namespace

extern const MethodDef kPrefixTuningMethod{
    "prefix",
    "PREFIX_TUNING",
    create_prefix,
    {
        {"--num-virtual-tokens", "num_virtual_tokens", T::Int, "virtual tokens (default 20)"},
    }};

}  // namespace peft
