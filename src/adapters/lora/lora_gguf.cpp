// LoRA GGUF files: tensor names and row orders from the model's GGUF layout (model/gguf_names.h).
#include "adapters/lora/lora_gguf.h"

#include <cmath>
#include <cstring>
#include <map>

#include <fmt/format.h>

#include "adapters/lora/lora.h"
#include "io/gguf_writer.h"
#include "model/gguf_export.h"
#include "model/gguf_names.h"

namespace peft {

namespace {

const GgufArchDef* gguf_arch_of(const Model& model) { return model.arch ? model.arch->gguf : nullptr; }

}  // namespace

Status write_lora_gguf(const Model& model, const std::vector<LoraPair>& pairs, int64_t r, double scaling, GgmlType type,
                       const std::string& path) {
  const GgufArchDef* arch = gguf_arch_of(model);
  if (!arch)
    return Status::errorf("{}: llama.cpp has no '{}' architecture, so a LoRA for it has no GGUF form (supported: {})",
                          model.path, model.config.arch, supported_gguf_archs());
  GgufWriter w;
  w.set_string("general.architecture", arch->name);
  w.set_string("general.type", "adapter");
  w.set_u32("general.file_type", gguf_file_type(type));
  w.set_u32("general.quantization_version", 2);
  w.set_string("adapter.type", "lora");
  w.set_f32("adapter.lora.alpha", float(scaling * double(r)));
  for (const LoraPair& p : pairs) {
    const std::string base = gguf_linear_name(p.ref.site, p.ref.layer);
    std::vector<float> b(size_t(p.out * r));
    PEFT_TRY(reorder_rows(gguf_row_fix(*arch, gguf_role_of(p.ref.site), model.config), /*to_gguf=*/true, b.data(), p.b,
                          p.out, size_t(r) * sizeof(float), base + ".lora_b"));
    GgmlType a_type, b_type;
    std::string a_bytes = encode_matrix(p.a, r, p.in, type, a_type);
    std::string b_bytes = encode_matrix(b.data(), p.out, r, type, b_type);
    w.add_tensor(base + ".lora_a", a_type, {r, p.in}, std::move(a_bytes));
    w.add_tensor(base + ".lora_b", b_type, {p.out, r}, std::move(b_bytes));
  }
  return w.write(path);
}

Result<std::unique_ptr<Adapter>> load_lora_gguf(const Model& model, const GgufFile& f) {
  const GgufArchDef* arch = gguf_arch_of(model);
  PEFT_ASSIGN_OR_RETURN(std::string file_arch, f.get_string("general.architecture"));
  if (!arch || file_arch != arch->name)
    return Status::errorf("{}: a LoRA for GGUF architecture '{}', but the model {} is '{}'", f.path(), file_arch,
                          model.path, arch ? arch->name : model.config.arch);
  PEFT_ASSIGN_OR_RETURN(double alpha, f.get_float_or("adapter.lora.alpha", 0.0));
  if (!std::isfinite(alpha)) return Status::errorf("{}: adapter.lora.alpha is {}", f.path(), alpha);

  struct Pair {
    const GgufTensorInfo* a = nullptr;
    const GgufTensorInfo* b = nullptr;
  };
  std::map<std::string, Pair> pairs;  // by base tensor name, in name order
  for (const GgufTensorInfo& t : f.tensors()) {
    const bool is_a = t.name.ends_with(".lora_a"), is_b = t.name.ends_with(".lora_b");
    if (!is_a && !is_b)
      return Status::errorf(
          "{}: tensor '{}' is not a LoRA tensor (.lora_a / .lora_b); LoRA GGUF files with other "
          "tensors (norms, embeddings) are not supported",
          f.path(), t.name);
    Pair& p = pairs[t.name.substr(0, t.name.size() - 7)];
    (is_a ? p.a : p.b) = &t;
  }
  if (pairs.empty()) return Status::errorf("{}: the adapter has no tensors", f.path());

  int64_t r = -1;
  std::vector<std::pair<SiteRef, Pair>> modules;
  for (const auto& [base, p] : pairs) {
    if (!p.a || !p.b)
      return Status::errorf("{}: tensor '{}.{}' is missing (LoRA tensors come in pairs)", f.path(), base,
                            p.a ? "lora_b" : "lora_a");
    const std::optional<GgufLinear> lin = gguf_linear_of(base);
    if (!lin)
      return Status::errorf(
          "{}: tensor '{}.lora_a' adapts '{}', which is not a projection peft.cpp can adapt "
          "(LoRA on embeddings, the output head or norms is not supported)",
          f.path(), base, base);
    if (lin->layer >= model.config.n_layer)
      return Status::errorf("{}: tensor '{}.lora_a' is for layer {} but the model has {} layers", f.path(), base,
                            lin->layer, model.config.n_layer);
    const Linear* l = linear_at(model.layers[size_t(lin->layer)], lin->site);
    if (!l) return Status::errorf("{}: tensor '{}.lora_a': the model has no '{}'", f.path(), base, base);
    const std::vector<int64_t> sa = p.a->shape(), sb = p.b->shape();  // row-major: A (r, in), B (out, r)
    if (sa.size() != 2 || sb.size() != 2)
      return Status::errorf("{}: tensors '{}.lora_a' / '.lora_b' must be matrices", f.path(), base);
    if (sa[1] != l->in() || sb[0] != l->out())
      return Status::errorf(
          "{}: tensors '{}.lora_a' [{}, {}] / '.lora_b' [{}, {}] do not fit the model's '{}' "
          "({} in, {} out): an adapter for another model size?",
          f.path(), base, sa[0], sa[1], sb[0], sb[1], base, l->in(), l->out());
    if (sa[0] != sb[1])
      return Status::errorf("{}: rank mismatch in '{}': lora_a has rank {}, lora_b {}", f.path(), base, sa[0], sb[1]);
    if (r >= 0 && sa[0] != r)
      return Status::errorf("{}: '{}' has rank {} but earlier tensors rank {}: peft.cpp's LoRA holds one rank",
                            f.path(), base, sa[0], r);
    r = sa[0];
    if (r <= 0) return Status::errorf("{}: '{}' has rank 0", f.path(), base);
    modules.push_back({SiteRef{lin->site, lin->layer, module_path(model, lin->site, lin->layer)}, p});
  }

  LoraConfig config;
  config.r = r;
  config.lora_alpha = alpha != 0.0 ? alpha : double(r);  // llama.cpp: alpha 0 means scale 1
  config.lora_dropout = 0.0;
  config.init = "none";
  TargetSpec spec;
  spec.kind = TargetSpec::Kind::List;
  for (const auto& [ref, p] : modules) spec.names.push_back(ref.path);
  config.targets = spec;
  PEFT_ASSIGN_OR_RETURN(auto adapter, LoraAdapter::create(model, config, 0));
  for (const auto& [ref, p] : modules) {
    const std::string prefix = "base_model.model." + ref.path;
    PEFT_ASSIGN_OR_RETURN(OwnedTensor a, f.to_f32(*p.a));
    PEFT_ASSIGN_OR_RETURN(OwnedTensor b, f.to_f32(*p.b));
    for (Param& param : adapter->params().all()) {
      if (param.name == prefix + ".lora_A.weight") {
        std::memcpy(param.value.f32(), a.f32(), size_t(a.numel()) * sizeof(float));
      } else if (param.name == prefix + ".lora_B.weight") {
        PEFT_TRY(reorder_rows(gguf_row_fix(*arch, gguf_role_of(ref.site), model.config), /*to_gguf=*/false,
                              param.value.f32(), b.f32(), b.view().dim(0), size_t(r) * sizeof(float),
                              f.path() + ": tensor '" + p.b->name + "'"));
      }
    }
  }
  return std::unique_ptr<Adapter>(std::move(adapter));
}

}  // namespace peft
