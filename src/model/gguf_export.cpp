// Model → GGUF: llama.cpp's metadata keys, tensor names and rotary row order.
#include "model/gguf_export.h"

#include <fmt/format.h>

#include "io/gguf_writer.h"
#include "model/gguf_model.h"

namespace peft {

namespace {

// llama_ftype values for general.file_type.
uint32_t file_type_of(GgmlType t) {
  switch (t) {
    case GgmlType::F16: return 1;
    case GgmlType::Q8_0: return 7;
    case GgmlType::BF16: return 32;
    default: return 0;
  }
}

class TensorWriter {
 public:
  TensorWriter(GgufWriter& w, GgmlType type) : w_(w), type_(type) {}

  // A 2-D weight in the chosen type; `permute_heads` > 0 re-permutes rows for llama.cpp.
  void matrix(const std::string& name, const Tensor& t, int64_t permute_heads = 0) {
    OwnedTensor f = prepared(t, permute_heads);
    const int64_t cols = t.ndim >= 2 ? t.dim(1) : t.numel();
    GgmlType type = type_;
    if (type == GgmlType::Q8_0 && cols % 32 != 0) type = GgmlType::F16;  // as llama.cpp's converter
    w_.add_tensor(name, type, t.dims(), encode_ggml(f.f32(), f.numel(), type));
  }
  // Norm weights and biases: F32. Absent tensors (data == nullptr) are skipped.
  void vector(const std::string& name, const Tensor& t, int64_t permute_heads = 0) {
    if (!t.data) return;
    OwnedTensor f = prepared(t, permute_heads);
    w_.add_tensor(name, GgmlType::F32, t.dims(), encode_ggml(f.f32(), f.numel(), GgmlType::F32));
  }
  void linear(const std::string& stem, const Linear& l, int64_t permute_heads = 0) {
    matrix(stem + ".weight", l.w, permute_heads);
    vector(stem + ".bias", l.b, permute_heads);
  }
  void norm(const std::string& stem, const Norm& n) {
    vector(stem + ".weight", n.w);
    vector(stem + ".bias", n.b);
  }

 private:
  static OwnedTensor prepared(const Tensor& t, int64_t permute_heads) {
    OwnedTensor f = to_f32(t);
    if (permute_heads <= 0) return f;
    OwnedTensor p(DType::F32, t.dims());
    const int64_t rows = t.dim(0);
    const size_t row_bytes = size_t(t.numel() / rows) * 4;
    permute_rows_hf_to_gguf(p.f32(), f.f32(), rows, row_bytes, permute_heads);
    return p;
  }
  GgufWriter& w_;
  GgmlType type_;
};

Status check_exportable(const Model& m, const std::string& gguf_arch) {
  const ModelConfig& c = m.config;
  const BlockSpec& b = c.block;
  auto bad = [&](const char* what) {
    return Status::errorf("{}: cannot export to GGUF '{}': {}", m.path, gguf_arch, what);
  };
  if (gguf_arch == "gpt2") {
    if (b.position != PositionKind::Learned || b.qkv != QkvLayout::Blocked || b.gated_mlp)
      return bad("expected learned positions, a fused c_attn and a plain MLP");
    return Status::ok();
  }
  if (b.position != PositionKind::Rope || b.rope.layout != RopeLayout::RotateHalf)
    return bad("expected rotate-half rotary embeddings");
  if (b.rope.rot_dim != 0 && b.rope.rot_dim != c.head_dim) return bad("partial rotary embeddings");
  if (b.qkv != QkvLayout::Separate || !b.gated_mlp || b.norm != NormKind::RmsNorm)
    return bad("expected separate q/k/v, a gated MLP and RMSNorm");
  return Status::ok();
}

void write_hparams(GgufWriter& w, const Model& m, const std::string& a) {
  const ModelConfig& c = m.config;
  const std::string p = a + ".";
  w.set_u32(p + "context_length", uint32_t(c.n_ctx));
  w.set_u32(p + "embedding_length", uint32_t(c.n_embd));
  w.set_u32(p + "block_count", uint32_t(c.n_layer));
  w.set_u32(p + "feed_forward_length", uint32_t(c.n_ff));
  w.set_u32(p + "attention.head_count", uint32_t(c.n_head));
  if (a == "gpt2") {
    w.set_f32(p + "attention.layer_norm_epsilon", c.norm_eps);
    return;
  }
  w.set_u32(p + "attention.head_count_kv", uint32_t(c.n_head_kv));
  w.set_u32(p + "vocab_size", uint32_t(c.n_vocab));
  w.set_u32(p + "rope.dimension_count", uint32_t(c.head_dim));
  w.set_f32(p + "rope.freq_base", c.block.rope.theta);
  w.set_f32(p + "attention.layer_norm_rms_epsilon", c.norm_eps);
  if (c.head_dim * c.n_head != c.n_embd) {
    w.set_u32(p + "attention.key_length", uint32_t(c.head_dim));
    w.set_u32(p + "attention.value_length", uint32_t(c.head_dim));
  }
}

}  // namespace

std::optional<GgmlType> ggml_type_from_flag(const std::string& flag) {
  if (flag == "f32") return GgmlType::F32;
  if (flag == "f16") return GgmlType::F16;
  if (flag == "bf16") return GgmlType::BF16;
  if (flag == "q8_0") return GgmlType::Q8_0;
  return std::nullopt;
}

Status export_gguf(const Model& m, const GgufVocab* vocab, const GgufExportOptions& opt, const std::string& path) {
  const ModelConfig& c = m.config;
  std::string arch;
  if (c.arch == "llama" || c.arch == "gpt2" || c.arch == "qwen2") arch = c.arch;
  else return Status::errorf("{}: GGUF export supports llama, qwen2 and gpt2 models (found {})", m.path, c.arch);
  PEFT_TRY(check_exportable(m, arch));
  const bool permute = find_gguf_arch(arch)->permuted_qk;

  GgufWriter w;
  w.set_string("general.architecture", arch);
  w.set_string("general.name", opt.name.empty() ? arch : opt.name);
  w.set_u32("general.file_type", file_type_of(opt.type));
  w.set_u32("general.quantization_version", 2);
  write_hparams(w, m, arch);
  if (vocab) {
    if (int64_t(vocab->tokens.size()) > c.n_vocab)
      return Status::errorf("{}: the tokenizer has {} tokens but the model only {}", m.path, vocab->tokens.size(),
                            c.n_vocab);
    GgufVocab padded = *vocab;
    for (int64_t id = int64_t(padded.tokens.size()); id < c.n_vocab; ++id) {
      padded.tokens.push_back(fmt::format("[PAD{}]", id));
      if (!vocab->scores.empty()) padded.scores.push_back(-1000.f);
      if (!vocab->token_types.empty()) padded.token_types.push_back(int32_t(GgufTokenType::Unused));
    }
    write_gguf_vocab(w, padded);
  } else {
    // No vocabulary, but the special ids still belong to the model (config.json's bos/eos).
    if (c.bos_id >= 0) w.set_u32("tokenizer.ggml.bos_token_id", uint32_t(c.bos_id));
    if (c.eos_id >= 0) w.set_u32("tokenizer.ggml.eos_token_id", uint32_t(c.eos_id));
  }

  TensorWriter t(w, opt.type);
  t.matrix("token_embd.weight", m.tok_embd);
  if (arch == "gpt2") t.matrix("position_embd.weight", m.pos_embd);
  t.norm("output_norm", m.out_norm);
  if (!c.block.tied_embeddings) t.matrix("output.weight", m.lm_head.w);
  for (int64_t l = 0; l < c.n_layer; ++l) {
    const LayerWeights& L = m.layers[size_t(l)];
    const std::string b = fmt::format("blk.{}.", l);
    t.norm(b + "attn_norm", L.attn_norm);
    if (arch == "gpt2") {
      t.linear(b + "attn_qkv", L.qkv);
    } else {
      t.linear(b + "attn_q", L.q, permute ? c.n_head : 0);
      t.linear(b + "attn_k", L.k, permute ? c.n_head_kv : 0);
      t.linear(b + "attn_v", L.v);
    }
    t.linear(b + "attn_output", L.o);
    t.norm(b + "ffn_norm", L.ffn_norm);
    if (arch != "gpt2") t.linear(b + "ffn_gate", L.gate);
    t.linear(b + "ffn_up", L.up);
    t.linear(b + "ffn_down", L.down);
  }
  return w.write(path);
}

}  // namespace peft
