// Random-weight benchmark models: preset Hugging Face configs and a TensorSource of random tensors.
#include "bench/random_model.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <unordered_set>
#include <vector>

#include "core/rng.h"
#include "model/math_keys.h"

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
// The real configs of today's models (their config.json sizes and the keys that change the math).
Json llama3(int64_t C, int64_t L, int64_t F, bool tied, double factor) {
  Json j = llama_like(C, L, 32, 8, F, 128256, 131072, tied);
  j["rope_theta"] = 500000.0;
  j["rope_scaling"] = Json{{"rope_type", "llama3"},
                           {"factor", factor},
                           {"low_freq_factor", 1.0},
                           {"high_freq_factor", 4.0},
                           {"original_max_position_embeddings", 8192}};
  j["bos_token_id"] = 128000;
  j["eos_token_id"] = 128001;
  return j;
}
Json llama32_1b() { return llama3(2048, 16, 8192, true, 32.0); }
Json llama31_8b() { return llama3(4096, 32, 14336, false, 8.0); }
Json qwen3_06b() {
  return Json{{"model_type", "qwen3"},       {"hidden_size", 1024},      {"num_hidden_layers", 28},
              {"num_attention_heads", 16},   {"num_key_value_heads", 8}, {"head_dim", 128},
              {"intermediate_size", 3072},   {"vocab_size", 151936},     {"max_position_embeddings", 40960},
              {"rope_theta", 1000000.0},     {"rms_norm_eps", 1e-6},     {"hidden_act", "silu"},
              {"tie_word_embeddings", true}, {"bos_token_id", 151643},   {"eos_token_id", 151645}};
}
Json gemma2_2b() {
  return Json{{"model_type", "gemma2"},          {"hidden_size", 2304},      {"num_hidden_layers", 26},
              {"num_attention_heads", 8},        {"num_key_value_heads", 4}, {"head_dim", 256},
              {"intermediate_size", 9216},       {"vocab_size", 256000},     {"max_position_embeddings", 8192},
              {"query_pre_attn_scalar", 256},    {"sliding_window", 4096},   {"attn_logit_softcapping", 50.0},
              {"final_logit_softcapping", 30.0}, {"rms_norm_eps", 1e-6},     {"hidden_activation", "gelu_pytorch_tanh"},
              {"tie_word_embeddings", true}};
}

const PresetDef kPresets[] = {
    {"gpt2-124m", "gpt2", 4, 256, gpt2_124m},          {"smollm-135m", "llama", 4, 256, smollm_135m},
    {"tinyllama-1.1b", "llama", 4, 256, tinyllama_1b}, {"stories260k", "llama", 16, 207, stories260k},
    {"llama3.2-1b", "llama", 4, 512, llama32_1b},      {"qwen3-0.6b", "qwen3", 4, 512, qwen3_06b},
    {"gemma2-2b", "gemma2", 4, 512, gemma2_2b},        {"llama3.1-8b", "llama", 1, 512, llama31_8b},
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

// Every tensor the architecture binds for `c`, under its Hugging Face names, shaped as
// bind_weights checks them (so any registered architecture can be benchmarked).
void fill_from_names(RandomSource& s, const ModelConfig& c, const TensorNames& n) {
  const int64_t C = c.n_embd, F = c.n_ff, V = c.n_vocab, Ce = c.embd_in(), qd = c.q_dim(), kvd = c.kv_dim();
  // Norm weights as stored: w with the norm scaling by (offset + w) = 1.
  const float norm_one = 1.0f - c.norm_weight_offset;
  auto matrix = [&](const std::string& pattern, int64_t l, int64_t rows, int64_t cols) {
    if (pattern.empty()) return;
    if (n.conv1d && pattern != n.tok_embd && pattern != n.pos_embd && pattern != n.lm_head_w)
      s.matrix(peft::layer_name(pattern, l), cols, rows);  // Conv1D files hold (in, out)
    else
      s.matrix(peft::layer_name(pattern, l), rows, cols);
  };
  auto vec = [&](const std::string& pattern, int64_t l, int64_t size, float value) {
    if (!pattern.empty()) s.vector(peft::layer_name(pattern, l), size, value);
  };
  auto linear = [&](const std::string& w, const std::string& b, int64_t l, int64_t out, int64_t in) {
    matrix(w, l, out, in);
    vec(b, l, out, 0.0f);
  };
  matrix(n.tok_embd, 0, V, Ce);
  if (c.block.position == PositionKind::Learned) matrix(n.pos_embd, 0, c.n_ctx + c.block.learned_pos_offset, C);
  if (c.n_embd_in) {
    matrix(n.project_in_w, 0, C, Ce);
    matrix(n.project_out_w, 0, Ce, C);
  }
  if (c.embd_norm) {
    vec(n.embd_norm_w, 0, C, norm_one);
    vec(n.embd_norm_b, 0, C, 0.0f);
  }
  if (c.final_norm) {
    vec(n.out_norm_w, 0, C, norm_one);
    vec(n.out_norm_b, 0, C, 0.0f);
  }
  if (!c.block.tied_embeddings) matrix(n.lm_head_w, 0, V, Ce);
  vec(n.lm_head_b, 0, V, 0.0f);
  for (int64_t l = 0; l < c.n_layer; ++l) {
    if (c.block.input_norms) {
      vec(n.attn_norm_w, l, C, norm_one);
      vec(n.attn_norm_b, l, C, 0.0f);
      if (!c.block.shared_block_norm) {
        vec(n.ffn_norm_w, l, C, norm_one);
        vec(n.ffn_norm_b, l, C, 0.0f);
      }
    }
    if (c.block.output_norms) {
      vec(n.attn_out_norm_w, l, C, norm_one);
      vec(n.ffn_out_norm_w, l, C, norm_one);
    }
    if (c.block.qk_norm != QkNorm::None) {
      const bool per_head = c.block.qk_norm == QkNorm::PerHead;
      vec(n.q_norm_w, l, per_head ? c.head_dim : qd, norm_one);
      vec(n.k_norm_w, l, per_head ? c.head_dim : kvd, norm_one);
    }
    if (c.block.qkv == QkvLayout::Separate) {
      linear(n.q_w, n.q_b, l, qd, C);
      linear(n.k_w, n.k_b, l, kvd, C);
      linear(n.v_w, n.v_b, l, kvd, C);
    } else {
      linear(n.qkv_w, n.qkv_b, l, qd + 2 * kvd, C);
    }
    linear(n.o_w, n.o_b, l, C, qd);
    if (c.block.fused_gate_up) {
      linear(n.up_w, n.up_b, l, 2 * F, C);
    } else {
      if (c.block.gated_mlp) linear(n.gate_w, n.gate_b, l, F, C);
      linear(n.up_w, n.up_b, l, F, C);
    }
    linear(n.down_w, n.down_b, l, C, F);
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
    return Status::errorf("--arch '{}' does not match --preset {} (a {} model)", arch, preset, p->arch);
  return p->config();
}

Result<std::unique_ptr<Model>> random_model(const Json& config, DType base, uint64_t seed, bool quantize_embeddings) {
  if (base != DType::F32 && base != DType::BF16 && !dtype_is_quantized(base))
    return Status::errorf("random models are f32, bf16 or quantized at load");
  const std::string type = config.value("model_type", "");
  const ArchDef* arch = find_arch(type);
  if (!arch)
    return Status::errorf("random models: model_type '{}' is unknown (supported: {})", type, supported_archs());
  PEFT_ASSIGN_OR_RETURN(ModelConfig mc, parse_model_config(*arch, config, "<bench preset>"));
  auto source = std::make_shared<RandomSource>(dtype_is_quantized(base) ? DType::BF16 : base, seed);
  fill_from_names(*source, mc, arch->tensor_names(mc));
  LoadOptions options;
  options.base_dtype = base;
  options.quantize_embeddings = quantize_embeddings;
  PEFT_ASSIGN_OR_RETURN(auto model, load_model_from(config, "<bench preset>", source, "<random>", options));
  source->release_unreferenced(model_pointers(*model));
  return model;
}

std::string describe_base(const Model& m) {
  std::vector<std::string> types;
  for (const LayerWeights& l : m.layers)
    for (const Linear* x : {&l.q, &l.k, &l.v, &l.qkv, &l.o, &l.gate, &l.up, &l.down}) {
      if (!x->w.data) continue;
      const std::string name(dtype_name(x->w.dtype));
      if (std::find(types.begin(), types.end(), name) == types.end()) types.push_back(name);
    }
  return fmt::format("{}", fmt::join(types, "+"));
}

Result<std::unique_ptr<Model>> bench_model(const std::string& path, const std::string& preset, const std::string& arch,
                                           const LoadOptions& base, uint64_t seed) {
  if (!path.empty()) {
    PEFT_ASSIGN_OR_RETURN(auto model, load_model(path, base));
    if (!arch.empty() && model->config.arch != arch)
      return Status::errorf("--arch '{}' does not match --model {} (a {} model)", arch, path, model->config.arch);
    PEFT_TRY(check_causal_lm(*model, "peft bench"));  // it measures LM training and decoding
    return model;
  }
  PEFT_ASSIGN_OR_RETURN(Json hf, preset_config(preset, arch));
  PEFT_ASSIGN_OR_RETURN(auto model,
                        random_model(hf, base.base_dtype.value_or(DType::F32), seed, base.quantize_embeddings));
  PEFT_TRY(check_causal_lm(*model, "peft bench"));
  return model;
}

}  // namespace peft::bench
