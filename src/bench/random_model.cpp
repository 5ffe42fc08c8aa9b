// Random-weight benchmark models: preset Hugging Face configs and a TensorSource of random tensors.
#include "bench/random_model.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <unordered_set>
#include <vector>

#include "core/rng.h"

namespace peft::bench {

namespace {

struct PresetDef {
  const char* name;
  const char* arch;
  int64_t B, T;  // default benchmark batch
  Json (*config)();
};

Json gpt2_124m() {
  return Json{{"model_type", "gpt2"},
              {"vocab_size", 50257},
              {"n_embd", 768},
              {"n_layer", 12},
              {"n_head", 12},
              {"n_positions", 1024},
              {"activation_function", "gelu_new"},
              {"layer_norm_epsilon", 1e-5},
              {"tie_word_embeddings", true}};
}
Json llama_like(int64_t C, int64_t L, int64_t H, int64_t Hkv, int64_t F, int64_t V, int64_t ctx, bool tied) {
  return Json{{"model_type", "llama"},
              {"hidden_size", C},
              {"num_hidden_layers", L},
              {"num_attention_heads", H},
              {"num_key_value_heads", Hkv},
              {"intermediate_size", F},
              {"vocab_size", V},
              {"max_position_embeddings", ctx},
              {"rms_norm_eps", 1e-5},
              {"hidden_act", "silu"},
              {"tie_word_embeddings", tied}};
}
Json smollm_135m() { return llama_like(576, 30, 9, 3, 1536, 49152, 2048, true); }
Json tinyllama_1b() { return llama_like(2048, 22, 32, 4, 5632, 32000, 2048, false); }
Json stories260k() { return llama_like(64, 5, 8, 4, 172, 512, 512, true); }

const PresetDef kPresets[] = {
    {"gpt2-124m", "gpt2", 4, 256, gpt2_124m},
    {"smollm-135m", "llama", 4, 256, smollm_135m},
    {"tinyllama-1.1b", "llama", 4, 256, tinyllama_1b},
    {"stories260k", "llama", 16, 207, stories260k},
};

const PresetDef* find_preset(const std::string& name) {
  for (const PresetDef& p : kPresets)
    if (name == p.name) return &p;
  return nullptr;
}

// Tensors under Hugging Face names, owned here; find() serves views.
class RandomSource : public TensorSource {
 public:
  RandomSource(DType base, uint64_t seed) : base_(base), rng_(seed) {}

  // A (rows, cols) matrix of N(0, 0.02) in the base dtype.
  void matrix(const std::string& name, int64_t rows, int64_t cols) {
    OwnedTensor t(base_, {rows, cols});
    std::vector<float> row(static_cast<size_t>(cols));
    for (int64_t r = 0; r < rows; ++r) {
      fill_normal(row.data(), cols, 0.02f);
      convert_from_f32(static_cast<char*>(t.view().data) + size_t(r * cols) * dtype_size(base_), base_, row.data(),
                       size_t(cols));
    }
    tensors_.emplace(name, std::move(t));
  }
  // A (n) F32 vector filled with `value` (norm weights 1, biases 0).
  void vector(const std::string& name, int64_t n, float value) {
    OwnedTensor t(DType::F32, {n});
    std::fill(t.f32(), t.f32() + n, value);
    tensors_.emplace(name, std::move(t));
  }

  const Tensor* find(const std::string& name) const override {
    auto it = tensors_.find(name);
    return it == tensors_.end() ? nullptr : &it->second.view();
  }
  std::string file_of(const std::string&) const override { return "<random>"; }
  std::vector<std::string> names() const override {
    std::vector<std::string> out;
    for (const auto& [name, t] : tensors_) out.push_back(name);
    return out;  // std::map: sorted
  }
  // Drops every tensor whose storage the model does not point at (it made its own copy).
  void release_unreferenced(const std::unordered_set<const void*>& used) {
    for (auto it = tensors_.begin(); it != tensors_.end();)
      it = used.count(it->second.view().data) ? std::next(it) : tensors_.erase(it);
  }

 private:
  // Approximately normal: the sum of four 16-bit uniforms (Irwin-Hall), rescaled to unit
  // variance — cheap enough for a billion weights, and the benchmark needs no exact Gaussian.
  void fill_normal(float* out, int64_t n, float stddev) {
    const float scale = stddev * std::sqrt(3.0f) / 65536.0f;
    for (int64_t i = 0; i < n; ++i) {
      const uint64_t u = rng_.next_u64();
      const float s = float(u & 0xffff) + float((u >> 16) & 0xffff) + float((u >> 32) & 0xffff) + float(u >> 48);
      out[i] = (s - 2.0f * 65535.0f) * scale;
    }
  }

  DType base_;
  Rng rng_;
  std::map<std::string, OwnedTensor> tensors_;
};

std::string layer_name(const std::string& prefix, int64_t i, const std::string& rest) {
  return prefix + std::to_string(i) + "." + rest;
}

void fill_gpt2(RandomSource& s, const Json& c) {
  const int64_t C = c["n_embd"], L = c["n_layer"], V = c["vocab_size"], P = c["n_positions"];
  const int64_t F = c.contains("n_inner") && !c["n_inner"].is_null() ? c["n_inner"].get<int64_t>() : 4 * C;
  s.matrix("transformer.wte.weight", V, C);
  s.matrix("transformer.wpe.weight", P, C);
  s.vector("transformer.ln_f.weight", C, 1.0f);
  s.vector("transformer.ln_f.bias", C, 0.0f);
  if (!c.value("tie_word_embeddings", true)) s.matrix("lm_head.weight", V, C);
  for (int64_t i = 0; i < L; ++i) {
    auto n = [&](const std::string& rest) { return layer_name("transformer.h.", i, rest); };
    for (const char* ln : {"ln_1", "ln_2"}) {
      s.vector(n(std::string(ln) + ".weight"), C, 1.0f);
      s.vector(n(std::string(ln) + ".bias"), C, 0.0f);
    }
    // Conv1D files hold (in, out).
    const struct {
      const char* name;
      int64_t in, out;
    } mats[] = {{"attn.c_attn", C, 3 * C}, {"attn.c_proj", C, C}, {"mlp.c_fc", C, F}, {"mlp.c_proj", F, C}};
    for (const auto& m : mats) {
      s.matrix(n(std::string(m.name) + ".weight"), m.in, m.out);
      s.vector(n(std::string(m.name) + ".bias"), m.out, 0.0f);
    }
  }
}

void fill_llama(RandomSource& s, const Json& c) {
  const int64_t C = c["hidden_size"], L = c["num_hidden_layers"], V = c["vocab_size"];
  const int64_t H = c["num_attention_heads"], Hkv = c.value("num_key_value_heads", H);
  const int64_t F = c["intermediate_size"], hd = C / H;
  s.matrix("model.embed_tokens.weight", V, C);
  s.vector("model.norm.weight", C, 1.0f);
  if (!c.value("tie_word_embeddings", false)) s.matrix("lm_head.weight", V, C);
  for (int64_t i = 0; i < L; ++i) {
    auto n = [&](const std::string& rest) { return layer_name("model.layers.", i, rest); };
    s.vector(n("input_layernorm.weight"), C, 1.0f);
    s.vector(n("post_attention_layernorm.weight"), C, 1.0f);
    s.matrix(n("self_attn.q_proj.weight"), H * hd, C);
    s.matrix(n("self_attn.k_proj.weight"), Hkv * hd, C);
    s.matrix(n("self_attn.v_proj.weight"), Hkv * hd, C);
    s.matrix(n("self_attn.o_proj.weight"), C, H * hd);
    s.matrix(n("mlp.gate_proj.weight"), F, C);
    s.matrix(n("mlp.up_proj.weight"), F, C);
    s.matrix(n("mlp.down_proj.weight"), C, F);
  }
}

std::unordered_set<const void*> model_pointers(const Model& m) {
  std::unordered_set<const void*> used;
  auto add = [&](const Tensor& t) {
    if (t.data) used.insert(t.data);
  };
  auto lin = [&](const Linear& l) {
    add(l.w);
    add(l.b);
  };
  auto norm = [&](const Norm& n) {
    add(n.w);
    add(n.b);
  };
  add(m.tok_embd);
  add(m.pos_embd);
  norm(m.embd_norm);
  norm(m.out_norm);
  lin(m.lm_head);
  lin(m.project_in);
  lin(m.project_out);
  for (const LayerWeights& l : m.layers) {
    for (const Norm* x : {&l.attn_norm, &l.ffn_norm, &l.attn_out_norm, &l.ffn_out_norm, &l.q_norm, &l.k_norm}) norm(*x);
    for (const Linear* x : {&l.q, &l.k, &l.v, &l.qkv, &l.o, &l.gate, &l.up, &l.down}) lin(*x);
  }
  return used;
}

}  // namespace

std::string preset_names() {
  std::string out;
  for (const PresetDef& p : kPresets) out += (out.empty() ? "" : ", ") + std::string(p.name);
  return out;
}

void preset_default_batch(const std::string& preset, int64_t& B, int64_t& T) {
  const PresetDef* p = find_preset(preset);
  B = p ? p->B : 4;
  T = p ? p->T : 256;
}

Result<Json> preset_config(const std::string& preset, const std::string& arch) {
  const PresetDef* p = find_preset(preset);
  if (!p) return Status::errorf("--preset '{}' is unknown (supported: {})", preset, preset_names());
  if (!arch.empty() && arch != p->arch)
    return Status::errorf("--arch '{}' does not match --preset {} (a {} model; supported: gpt2, llama)", arch, preset,
                          p->arch);
  return p->config();
}

Result<std::unique_ptr<Model>> random_model(const Json& config, DType base, uint64_t seed) {
  if (base != DType::F32 && base != DType::BF16) return Status::errorf("random models are f32 or bf16");
  const std::string type = config.value("model_type", "");
  auto source = std::make_shared<RandomSource>(base, seed);
  if (type == "gpt2") {
    fill_gpt2(*source, config);
  } else if (type == "llama") {
    fill_llama(*source, config);
  } else {
    return Status::errorf("random models: model_type '{}' is not supported (gpt2, llama)", type);
  }
  LoadOptions options;
  options.base_dtype = base;
  PEFT_ASSIGN_OR_RETURN(auto model, load_model_from(config, "<bench preset>", source, "<random>", options));
  source->release_unreferenced(model_pointers(*model));
  return model;
}

}  // namespace peft::bench
