// The explicit list of architectures (one line each).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "model/arch.h"
#include "model/rope_config.h"

namespace peft {

extern const ArchDef kBloomArch;
extern const ArchDef kGpt2Arch;
extern const ArchDef kGptNeoxArch;
extern const ArchDef kGptjArch;
extern const ArchDef kLlamaArch;
extern const ArchDef kMistralArch;
extern const ArchDef kOptArch;
extern const ArchDef kQwen2Arch;
extern const ArchDef kQwen3Arch;
extern const ArchDef kSmollm3Arch;
extern const ArchDef kOlmo2Arch;
extern const ArchDef kGemmaArch;
extern const ArchDef kGemma2Arch;
extern const ArchDef kGemma3Arch;
extern const ArchDef kPhi3Arch;
extern const ArchDef kBertArch;
extern const ArchDef kRobertaArch;
extern const ArchDef kDebertaV2Arch;

namespace {
const ArchDef* const kArchs[] = {
    &kBloomArch,  &kGpt2Arch,   &kGptNeoxArch, &kGptjArch,    &kLlamaArch,   &kMistralArch,
    &kOptArch,    &kQwen2Arch,  &kQwen3Arch,   &kSmollm3Arch, &kOlmo2Arch,   &kGemmaArch,
    &kGemma2Arch, &kGemma3Arch, &kPhi3Arch,    &kBertArch,    &kRobertaArch, &kDebertaV2Arch,
};
}  // namespace

const std::vector<const ArchDef*>& all_archs() {
  static const std::vector<const ArchDef*> archs(std::begin(kArchs), std::end(kArchs));
  return archs;
}

const ArchDef* find_arch(const std::string& model_type) {
  for (const ArchDef* a : kArchs)
    if (model_type == a->model_type) return a;
  return nullptr;
}

std::string supported_archs() {
  std::vector<std::string> names;
  for (const ArchDef* a : kArchs) names.emplace_back(a->model_type);
  return fmt::format("{}", fmt::join(names, ", "));
}

const GgufArchDef* find_gguf_arch(const std::string& gguf_arch) {
  for (const ArchDef* a : kArchs)
    if (a->gguf && gguf_arch == a->gguf->name) return a->gguf;
  return nullptr;
}

std::string supported_gguf_archs() {
  std::vector<std::string> names;
  for (const ArchDef* a : kArchs)
    if (a->gguf && std::find(names.begin(), names.end(), a->gguf->name) == names.end())
      names.emplace_back(a->gguf->name);
  std::sort(names.begin(), names.end());
  return fmt::format("{}", fmt::join(names, ", "));
}

std::string layer_name(const std::string& pattern, int64_t layer) {
  std::string out = pattern;
  auto pos = out.find("{}");
  if (pos != std::string::npos) out.replace(pos, 2, std::to_string(layer));
  return out;
}

}  // namespace peft

namespace peft {

Status validate_config(ModelConfig& c, const std::string& where) {
  auto positive = [&](int64_t v, const char* field) -> Status {
    if (v <= 0) return Status::errorf("{}: {} must be positive, found {}", where, field, v);
    return Status::ok();
  };
  PEFT_TRY(positive(c.n_vocab, "vocab_size"));
  PEFT_TRY(positive(c.n_embd, "hidden size"));
  PEFT_TRY(positive(c.n_layer, "layer count"));
  PEFT_TRY(positive(c.n_head, "attention head count"));
  PEFT_TRY(positive(c.n_head_kv, "key/value head count"));
  PEFT_TRY(positive(c.n_ff, "MLP width"));
  PEFT_TRY(positive(c.n_ctx, "max positions"));
  if (c.head_dim == 0) {
    if (c.n_embd % c.n_head != 0)
      return Status::errorf("{}: hidden size {} is not divisible by {} attention heads", where, c.n_embd, c.n_head);
    c.head_dim = c.n_embd / c.n_head;
  }
  if (c.n_head % c.n_head_kv != 0)
    return Status::errorf("{}: {} attention heads are not a multiple of {} key/value heads", where, c.n_head,
                          c.n_head_kv);
  if (c.block.position == PositionKind::Rope) PEFT_TRY(finish_rope_spec(c.block.rope, c.head_dim, where));
  if (c.has_sliding_rope) PEFT_TRY(finish_rope_spec(c.sliding_rope, c.head_dim, where));
  if (!c.rope_layers.empty() && int64_t(c.rope_layers.size()) != c.n_layer)
    return Status::errorf("{}: {} per-layer RoPE flags for {} layers", where, c.rope_layers.size(), c.n_layer);
  if (!c.sliding_layers.empty() && int64_t(c.sliding_layers.size()) != c.n_layer)
    return Status::errorf("{}: {} per-layer sliding-window flags for {} layers", where, c.sliding_layers.size(),
                          c.n_layer);
  if (c.sliding_window < 0)
    return Status::errorf("{}: the sliding window must not be negative, found {}", where, c.sliding_window);
  // tanh caps: a negative or non-finite cap has no meaning (0 is off).
  for (const auto& [cap, what] :
       {std::pair{c.attn_softcap, "attention logit soft-cap"}, std::pair{c.logit_softcap, "final logit soft-cap"}})
    if (!(cap >= 0.f && std::isfinite(cap)))
      return Status::errorf("{}: the {} must be positive (or null for none), found {}", where, what, cap);
  if (c.block.fused_gate_up && !c.block.gated_mlp)
    return Status::errorf("{}: a fused gate/up projection needs a gated MLP", where);
  if (!c.block.input_norms && !c.block.output_norms)
    return Status::errorf("{}: a block needs input or output norms", where);
  // Real models use 1e-12 .. 1e-5; from 0.1 up the norm stops normalising.
  if (!(c.norm_eps > 0.f && c.norm_eps < 0.1f))
    return Status::errorf("{}: the norm epsilon must be in (0, 0.1), found {}", where, c.norm_eps);
  if (c.attn_scale == 0.f) c.attn_scale = 1.0f / std::sqrt(float(c.head_dim));
  return Status::ok();
}

}  // namespace peft

namespace peft {

std::vector<std::string> target_list(const char* comma_separated) {
  std::vector<std::string> out;
  const std::string v = comma_separated ? comma_separated : "";
  size_t start = 0;
  while (start <= v.size()) {
    size_t end = v.find(',', start);
    if (end == std::string::npos) end = v.size();
    if (end > start) out.push_back(v.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

}  // namespace peft
