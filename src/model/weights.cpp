// Binding checkpoint tensors to decoder roles: name lookup, shape checks, dtype conversion.
#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <set>

#include "core/rng.h"
#include "kernels/norms.h"
#include "model/model.h"
#include "quant/quant.h"

namespace peft {

namespace {

class Binder {
 public:
  Binder(Model& m, const LoadOptions& opt) : m_(m), opt_(opt) {}

  // The big matrices: stored in the base dtype. `conv1d` files hold (in, out), except for
  // quantized tensors, which are always (out, in) (ggml's layout). `projection`: a block's
  // linear, which --base-dtype q8_0|q4_0|q4_k|nf4 quantizes.
  Status matrix(Tensor& dst, const std::string& pattern, int64_t layer, int64_t rows, int64_t cols,
                bool transposed_in_file, bool force_f32 = false, bool projection = false) {
    PEFT_ASSIGN_OR_RETURN(const Tensor* src, find(pattern, layer));
    const std::string name = layer_name(pattern, layer);
    if (dtype_is_quantized(src->dtype)) transposed_in_file = false;
    std::vector<int64_t> want =
        transposed_in_file ? std::vector<int64_t>{cols, rows} : std::vector<int64_t>{rows, cols};
    PEFT_TRY(check_shape(*src, name, want));
    DType target = DType::F32;
    if (!force_f32) {
      PEFT_ASSIGN_OR_RETURN(target, base_dtype(*src, name, projection, cols));
    }
    if (!transposed_in_file && src->dtype == target) {
      dst = *src;  // zero copy: a view into the mmap (quantized blocks included)
      return Status::ok();
    }
    OwnedTensor f32 = to_f32(*src);
    if (transposed_in_file) {
      OwnedTensor t(DType::F32, {rows, cols});
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c) t.f32()[r * cols + c] = f32.f32()[c * rows + r];
      f32 = std::move(t);
    }
    OwnedTensor out(target, {rows, cols});
    convert_from_f32(out.view().data, target, f32.f32(), size_t(rows * cols));
    dst = out.view();
    m_.owned.push_back(std::move(out));
    return Status::ok();
  }

  // Norm weights and biases: always F32. Empty pattern → left absent.
  Status vector(Tensor& dst, const std::string& pattern, int64_t layer, int64_t n) {
    if (pattern.empty()) return Status::ok();
    PEFT_ASSIGN_OR_RETURN(const Tensor* src, find(pattern, layer));
    PEFT_TRY(check_shape(*src, layer_name(pattern, layer), {n}));
    if (src->dtype == DType::F32) {
      dst = *src;
      return Status::ok();
    }
    OwnedTensor out = to_f32(*src);
    dst = out.view();
    m_.owned.push_back(std::move(out));
    return Status::ok();
  }

  // A norm weight: as vector(), plus the config's norm_weight_offset (Gemma's (1 + w)).
  Status norm_weight(Tensor& dst, const std::string& pattern, int64_t layer, int64_t n) {
    PEFT_TRY(vector(dst, pattern, layer, n));
    const float offset = m_.config.norm_weight_offset;
    if (offset == 0.f || !dst.data) return Status::ok();
    OwnedTensor out = to_f32(dst);  // a copy: dst may view the mmap
    for (int64_t i = 0; i < n; ++i) out.f32()[i] += offset;
    dst = out.view();
    m_.owned.push_back(std::move(out));
    return Status::ok();
  }

  Status linear(Linear& dst, const std::string& w, const std::string& b, int64_t layer, int64_t out, int64_t in) {
    PEFT_TRY(matrix(dst.w, w, layer, out, in, m_.names.conv1d, false, /*projection=*/true));
    return vector(dst.b, b, layer, out);
  }

 private:
  // The storage type of a matrix whose file type is src.dtype.
  Result<DType> base_dtype(const Tensor& src, const std::string& name, bool projection, int64_t cols) {
    const DType file = src.dtype;
    if (!opt_.base_dtype) {  // the checkpoint's own: F16 widened (the GEMMs read F32/BF16/quantized)
      return file == DType::F16 ? DType::F32 : file;
    }
    const DType want = *opt_.base_dtype;
    if (!dtype_is_quantized(want)) return want;  // f32 / bf16: every matrix, quantized files dequantized
    // Quantization at load (QLoRA-style): block projections; embeddings and the head bf16
    // unless LoadOptions::quantize_embeddings.
    if (dtype_is_quantized(file))
      return Status::errorf("{}: --base-dtype {} quantizes a float checkpoint, but tensor '{}' is already {}",
                            file_of(name), dtype_name(want), name, dtype_name(file));
    if (!projection && !opt_.quantize_embeddings) return DType::BF16;
    if (cols % quant_block(want) != 0) {
      ++kept_bf16_;
      return DType::BF16;
    }
    return want;
  }
  int64_t kept_bf16_ = 0;

 public:
  // Matrices left in bf16 by --base-dtype because their rows are not whole blocks.
  int64_t kept_bf16() const { return kept_bf16_; }
  std::string file_of(const std::string& name) const {
    const std::string f = m_.source->file_of(name);
    return f.empty() ? m_.path : f;
  }

 public:
  // The checkpoint's name for `pattern` at `layer` (some drop the outer module prefix,
  // "transformer." / "model."); empty when it has none.
  std::string resolve(const std::string& pattern, int64_t layer) const {
    const std::string name = layer_name(pattern, layer);
    if (m_.source->find(name)) return name;
    auto dot = name.find('.');
    if (dot != std::string::npos && m_.source->find(name.substr(dot + 1))) return name.substr(dot + 1);
    return {};
  }

 private:
  Result<const Tensor*> find(const std::string& pattern, int64_t layer) {
    const std::string name = resolve(pattern, layer);
    if (name.empty())
      return Status::errorf("{}: tensor '{}' is missing (architecture {})", m_.path, layer_name(pattern, layer),
                            m_.config.arch);
    used_.insert(name);
    return m_.source->find(name);
  }

 public:
  const std::set<std::string>& used() const { return used_; }
  void mark_used(const std::string& name) { used_.insert(name); }

 private:
  std::set<std::string> used_;

  Status check_shape(const Tensor& t, const std::string& name, const std::vector<int64_t>& want) {
    if (t.dims() != want)
      return Status::errorf("{}: tensor '{}' has shape {} but config.json implies [{}]",
                            m_.source->file_of(name).empty() ? m_.path : m_.source->file_of(name), name, t.shape_str(),
                            fmt::join(want, ", "));
    if (t.dtype != DType::F32 && t.dtype != DType::F16 && t.dtype != DType::BF16 && !dtype_is_quantized(t.dtype))
      return Status::errorf("{}: tensor '{}' has dtype {}, expected a float type", m_.path, name, dtype_name(t.dtype));
    // Quantized tensors come from GGUF files, whose reader checked every block's scales.
    if (dtype_is_quantized(t.dtype)) return Status::ok();
    // A NaN or inf weight (a damaged file, a dtype that lies) would make every output garbage.
    if (const int64_t i = first_non_finite(t); i >= 0)
      return Status::errorf("{}: tensor '{}' holds a non-finite value (NaN or inf) at element {}",
                            m_.source->file_of(name).empty() ? m_.path : m_.source->file_of(name), name, i);
    return Status::ok();
  }

  Model& m_;
  const LoadOptions& opt_;
};

}  // namespace

void replace_weight(Model& m, Tensor& w, OwnedTensor merged) {
  if (w.dtype != DType::F32 && !dtype_is_quantized(w.dtype)) {
    OwnedTensor back(w.dtype, merged.view().dims());
    convert_from_f32(back.view().data, w.dtype, merged.f32(), size_t(merged.numel()));
    merged = std::move(back);
  }
  w = merged.view();
  m.owned.push_back(std::move(merged));
}

// BLOOM's build_alibi_tensor: slopes 2^(−8i/c) for c = the largest power of two ≤ H,
// then 2^(−4j/c) for odd j for the remaining heads.
std::vector<float> alibi_slopes(int64_t n_head) {
  int64_t c = 1;
  while (c * 2 <= n_head) c *= 2;
  std::vector<float> slopes;
  const double base = std::pow(2.0, -8.0 / double(c));
  for (int64_t i = 1; i <= c; ++i) slopes.push_back(float(std::pow(base, double(i))));
  const double extra = std::pow(2.0, -4.0 / double(c));
  for (int64_t j = 1; int64_t(slopes.size()) < n_head; j += 2) slopes.push_back(float(std::pow(extra, double(j))));
  return slopes;
}

namespace {

// Buffers checkpoints carry that the math derives (RoPE frequencies, causal masks).
bool derivable_buffer(const std::string& name) {
  for (const char* suffix : {"rotary_emb.inv_freq", "embeddings.position_ids", ".attn.bias", ".attn.masked_bias",
                             ".attention.bias", ".attention.masked_bias"})
    if (name.ends_with(suffix)) return true;
  // llama.cpp's RoPE factor tensors, read into the config (read_gguf_rope_factors).
  for (const char* gguf : {"rope_freqs.weight", "rope_factors_long.weight", "rope_factors_short.weight"})
    if (name == gguf) return true;
  return false;
}

// Encoder checkpoints carry their pre-training heads (BERT's masked-LM and next-sentence
// heads, RoBERTa's LM head) and a pooler; the engine's encoders output hidden states or a
// task head, which binds the pooler when it uses one. Transformers skips them the same way.
// DeBERTa-v3's are lm_predictions (masked LM) and mask_predictions (replaced-token detection),
// and a checkpoint without absolute positions may still hold their table (transformers
// ignores it on load too).
bool pretraining_head(const ModelConfig& c, const std::string& name) {
  if (c.block.position == PositionKind::None && name.ends_with("embeddings.position_embeddings.weight")) return true;
  for (const char* head : {"cls.", "lm_head.", "lm_predictions.", "mask_predictions."})
    if (name.starts_with(head)) return true;
  return name.find("pooler.") != std::string::npos;
}

// rel_pos (2S, C) = the relative embeddings through their LayerNorm (or as stored): frozen,
// so computed once here rather than in every forward.
Status bind_relative_embeddings(Model& m, Binder& bind) {
  const ModelConfig& c = m.config;
  const int64_t C = c.n_embd, rows = 2 * c.rel.span;
  Tensor& table = m.rel_embd;
  PEFT_TRY(bind.matrix(table, m.names.rel_embd, 0, rows, C, false, /*force_f32=*/true));
  OwnedTensor out(DType::F32, {rows, C});
  if (c.rel.norm) {
    Norm& norm = m.rel_norm;
    PEFT_TRY(bind.norm_weight(norm.w, m.names.rel_norm_w, 0, C));
    PEFT_TRY(bind.vector(norm.b, m.names.rel_norm_b, 0, C));
    std::vector<float> mean(static_cast<size_t>(rows)), rstd(static_cast<size_t>(rows));
    layernorm_forward(out.f32(), mean.data(), rstd.data(), table.f32(), norm.w.f32(),
                      norm.b.data ? norm.b.f32() : nullptr, rows, C, c.norm_eps);
  } else {
    std::memcpy(out.f32(), table.f32(), size_t(rows * C) * sizeof(float));
  }
  m.rel_pos = out.view();
  m.owned.push_back(std::move(out));
  return Status::ok();
}

// Whether `module` sits under a PEFT modules_to_save entry ("pooler" covers "bert.pooler.dense").
bool under_module(const std::string& module, const std::string& entry) {
  const std::string dotted = "." + module + ".";
  return dotted.find("." + entry + ".") != std::string::npos;
}

// The task head's layers: the checkpoint's where it has them (F32 whatever --base-dtype
// says: they are small), else initialised as transformers does (LoadOptions::HeadOptions).
Status bind_task_head(Model& m, Binder& bind, const LoadOptions::HeadOptions& opt) {
  const ModelConfig& c = m.config;
  PEFT_ASSIGN_OR_RETURN(double range, json_get_float_or(m.hf_config, "initializer_range", 0.02, m.path));
  Rng rng(opt.seed ^ 0x6865616475ull);
  for (const HeadLayerSpec& spec : m.arch->task_head(m.task.task, c, m.task.num_labels)) {
    Model::HeadLayer& layer = m.head.emplace_back();
    layer.spec = spec;
    for (const std::string& entry : opt.trainable_modules)
      if (under_module(spec.module, entry)) layer.spec.trainable = true;
    const std::string w_name = bind.resolve(weight_of(spec.module), 0), b_name = bind.resolve(bias_of(spec.module), 0);
    const Tensor* w = w_name.empty() ? nullptr : m.source->find(w_name);
    const bool fits = w && w->dims() == std::vector<int64_t>{spec.out, spec.in};
    if (w && !fits && !(opt.reinit && spec.trainable))
      return Status::errorf(
          "{}: the checkpoint's head layer '{}' has shape {} but the task needs [{}, {}] ({} labels): pass "
          "--reinit-head to start a new head (transformers' ignore_mismatched_sizes)",
          m.path, spec.module, w->shape_str(), spec.out, spec.in, m.task.num_labels);
    if (w && !(opt.reinit && spec.trainable)) {
      PEFT_TRY(bind.matrix(layer.lin.w, weight_of(spec.module), 0, spec.out, spec.in, false, /*force_f32=*/true));
      PEFT_TRY(bind.vector(layer.lin.b, bias_of(spec.module), 0, spec.out));
      continue;
    }
    // A new layer: N(0, initializer_range) weights, zero bias (_init_weights). The checkpoint's
    // old one (--reinit-head) is read no further.
    if (!w_name.empty()) bind.mark_used(w_name);
    if (!b_name.empty()) bind.mark_used(b_name);
    OwnedTensor wt(DType::F32, {spec.out, spec.in}), bt(DType::F32, {spec.out});
    for (int64_t i = 0; i < wt.numel(); ++i) wt.f32()[i] = float(range) * rng.normal();
    layer.lin.w = wt.view();
    layer.lin.b = bt.view();
    m.owned.push_back(std::move(wt));
    m.owned.push_back(std::move(bt));
    layer.fresh = true;
    if (!layer.spec.trainable) {
      // transformers would leave it random and frozen, and PEFT would not save it, so no adapter
      // could be loaded again: it trains and saves with the classifier instead.
      layer.spec.trainable = true;
      std::fprintf(stderr,
                   "note: %s: head layer '%s' is not in the checkpoint: initialised, and a trainable part of the "
                   "head (the adapter saves and restores it: modules_to_save)\n",
                   m.path.c_str(), spec.module.c_str());
    }
  }
  return Status::ok();
}

}  // namespace

Status bind_weights(Model& m, const LoadOptions& opt) {
  const ModelConfig& c = m.config;
  const TensorNames& n = m.names;
  const int64_t C = c.n_embd, F = c.n_ff, V = c.n_vocab, Ce = c.embd_in();
  Binder bind(m, opt);
  // The config's layer count must be the checkpoint's, checked before anything is sized by
  // it (a config saying 1e9 layers is an error, not a bad_alloc).
  const std::string& per_layer = !n.attn_norm_w.empty() ? n.attn_norm_w : n.o_w;
  if (bind.resolve(per_layer, c.n_layer - 1).empty())
    return Status::errorf("{}: tensor '{}' is missing: the config has {} layers, the checkpoint fewer", m.path,
                          layer_name(per_layer, c.n_layer - 1), c.n_layer);
  if (!bind.resolve(per_layer, c.n_layer).empty())
    return Status::errorf("{}: the config has {} layers but the checkpoint also has '{}' (a layer would be dropped)",
                          m.path, c.n_layer, layer_name(per_layer, c.n_layer));
  PEFT_TRY(bind.matrix(m.tok_embd, n.tok_embd, 0, V, Ce, false));
  if (c.block.position == PositionKind::Learned)
    PEFT_TRY(bind.matrix(m.pos_embd, n.pos_embd, 0, c.n_ctx + c.block.learned_pos_offset, C, false,
                         /*force_f32=*/true));
  if (c.n_token_types > 0)
    PEFT_TRY(bind.matrix(m.type_embd, n.type_embd, 0, c.n_token_types, C, false, /*force_f32=*/true));
  if (c.block.position == PositionKind::Alibi) m.alibi_slopes = alibi_slopes(c.n_head);
  if (c.rel.span > 0) PEFT_TRY(bind_relative_embeddings(m, bind));
  if (c.n_embd_in) {
    PEFT_TRY(bind.matrix(m.project_in.w, n.project_in_w, 0, C, Ce, false));
    PEFT_TRY(bind.matrix(m.project_out.w, n.project_out_w, 0, Ce, C, false));
  }
  if (c.embd_norm) {
    PEFT_TRY(bind.norm_weight(m.embd_norm.w, n.embd_norm_w, 0, C));
    PEFT_TRY(bind.vector(m.embd_norm.b, n.embd_norm_b, 0, C));
  }
  if (c.final_norm) {
    PEFT_TRY(bind.norm_weight(m.out_norm.w, n.out_norm_w, 0, C));
    PEFT_TRY(bind.vector(m.out_norm.b, n.out_norm_b, 0, C));
  }
  if (!c.causal) {
    // Encoders: no LM head; a task head (below) or hidden states are the output.
  } else if (c.block.tied_embeddings) {
    m.lm_head.w = m.tok_embd;
  } else {
    PEFT_TRY(bind.matrix(m.lm_head.w, n.lm_head_w, 0, V, Ce, false));
  }
  if (c.causal) PEFT_TRY(bind.vector(m.lm_head.b, n.lm_head_b, 0, V));
  if (m.task.task != TaskType::CausalLm) PEFT_TRY(bind_task_head(m, bind, opt.head));

  const int64_t qd = c.q_dim(), kvd = c.kv_dim();
  m.layers.resize(size_t(c.n_layer));
  for (int64_t l = 0; l < c.n_layer; ++l) {
    LayerWeights& w = m.layers[size_t(l)];
    if (c.block.input_norms) {
      PEFT_TRY(bind.norm_weight(w.attn_norm.w, n.attn_norm_w, l, C));
      PEFT_TRY(bind.vector(w.attn_norm.b, n.attn_norm_b, l, C));
      if (!c.block.shared_block_norm) {
        PEFT_TRY(bind.norm_weight(w.ffn_norm.w, n.ffn_norm_w, l, C));
        PEFT_TRY(bind.vector(w.ffn_norm.b, n.ffn_norm_b, l, C));
      }
    }
    if (c.block.output_norms) {
      PEFT_TRY(bind.norm_weight(w.attn_out_norm.w, n.attn_out_norm_w, l, C));
      PEFT_TRY(bind.norm_weight(w.ffn_out_norm.w, n.ffn_out_norm_w, l, C));
    }
    if (c.block.qk_norm != QkNorm::None) {
      const bool per_head = c.block.qk_norm == QkNorm::PerHead;
      PEFT_TRY(bind.norm_weight(w.q_norm.w, n.q_norm_w, l, per_head ? c.head_dim : qd));
      PEFT_TRY(bind.norm_weight(w.k_norm.w, n.k_norm_w, l, per_head ? c.head_dim : kvd));
    }
    if (c.block.qkv == QkvLayout::Separate) {
      PEFT_TRY(bind.linear(w.q, n.q_w, n.q_b, l, qd, C));
      PEFT_TRY(bind.linear(w.k, n.k_w, n.k_b, l, kvd, C));
      PEFT_TRY(bind.linear(w.v, n.v_w, n.v_b, l, kvd, C));
    } else {
      PEFT_TRY(bind.linear(w.qkv, n.qkv_w, n.qkv_b, l, qd + 2 * kvd, C));
    }
    PEFT_TRY(bind.linear(w.o, n.o_w, n.o_b, l, C, qd));
    if (c.block.fused_gate_up) {
      PEFT_TRY(bind.linear(w.up, n.up_w, n.up_b, l, 2 * F, C));  // rows [gate | up]
    } else {
      if (c.block.gated_mlp) PEFT_TRY(bind.linear(w.gate, n.gate_w, n.gate_b, l, F, C));
      PEFT_TRY(bind.linear(w.up, n.up_w, n.up_b, l, F, C));
    }
    PEFT_TRY(bind.linear(w.down, n.down_w, n.down_b, l, C, F));
  }
  if (bind.kept_bf16() > 0 && opt.base_dtype)
    std::fprintf(stderr, "note: %lld matrices kept in bf16: their rows are not whole %s blocks of %lld values\n",
                 static_cast<long long>(bind.kept_bf16()), std::string(dtype_name(*opt.base_dtype)).c_str(),
                 static_cast<long long>(quant_block(*opt.base_dtype)));
  // Nothing the checkpoint holds may go unused: such a tensor means the config describes
  // another model (a bias it does not know of, a layer it would drop).
  for (const std::string& name : m.source->names()) {
    if (bind.used().count(name) || derivable_buffer(name)) continue;
    if (c.block.tied_embeddings && (name == "lm_head.weight" || name.ends_with(".lm_head.weight"))) continue;
    if (!c.causal && pretraining_head(c, name)) continue;
    const std::string file = m.source->file_of(name);
    return Status::errorf(
        "{}: tensor '{}' is not used by the {} model config.json describes (config and weights "
        "disagree?)",
        file.empty() ? m.path : file, name, c.arch);
  }
  return Status::ok();
}

}  // namespace peft
