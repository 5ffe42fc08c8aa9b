// Hugging Face folder writer.
#include "model/save_model.h"

#include <filesystem>

#include "io/atomic_output.h"
#include "io/json_file.h"
#include "io/safetensors.h"

namespace peft {

std::vector<HfTensor> hf_tensors(const Model& m) {
  const ModelConfig& c = m.config;
  const TensorNames& n = m.names;
  std::vector<HfTensor> out;
  auto add = [&](const std::string& pattern, int64_t layer, const Tensor& t, bool linear) {
    if (!pattern.empty() && t.data) out.push_back({layer_name(pattern, layer), t, linear && n.conv1d});
  };
  // Norm weights are held as (offset + w); the file holds w.
  auto add_norm = [&](const std::string& pattern, int64_t layer, const Tensor& t) {
    if (!pattern.empty() && t.data) out.push_back({layer_name(pattern, layer), t, false, c.norm_weight_offset});
  };
  add(n.tok_embd, 0, m.tok_embd, false);
  add(n.pos_embd, 0, m.pos_embd, false);
  add(n.type_embd, 0, m.type_embd, false);
  add(n.project_in_w, 0, m.project_in.w, false);
  add(n.project_out_w, 0, m.project_out.w, false);
  add_norm(n.embd_norm_w, 0, m.embd_norm.w);
  add(n.embd_norm_b, 0, m.embd_norm.b, false);
  add(n.rel_embd, 0, m.rel_embd, false);
  add_norm(n.rel_norm_w, 0, m.rel_norm.w);
  add(n.rel_norm_b, 0, m.rel_norm.b, false);
  for (int64_t l = 0; l < c.n_layer; ++l) {
    const LayerWeights& w = m.layers[size_t(l)];
    add_norm(n.attn_norm_w, l, w.attn_norm.w);
    add(n.attn_norm_b, l, w.attn_norm.b, false);
    add_norm(n.ffn_norm_w, l, w.ffn_norm.w);
    add(n.ffn_norm_b, l, w.ffn_norm.b, false);
    add_norm(n.q_norm_w, l, w.q_norm.w);
    add_norm(n.k_norm_w, l, w.k_norm.w);
    add_norm(n.attn_out_norm_w, l, w.attn_out_norm.w);
    add_norm(n.ffn_out_norm_w, l, w.ffn_out_norm.w);
    const std::pair<const std::string*, const Linear*> linears[] = {
        {&n.q_w, &w.q}, {&n.k_w, &w.k},       {&n.v_w, &w.v},   {&n.qkv_w, &w.qkv},
        {&n.o_w, &w.o}, {&n.gate_w, &w.gate}, {&n.up_w, &w.up}, {&n.down_w, &w.down}};
    const std::string* biases[] = {&n.q_b, &n.k_b, &n.v_b, &n.qkv_b, &n.o_b, &n.gate_b, &n.up_b, &n.down_b};
    for (size_t i = 0; i < 8; ++i) {
      add(*linears[i].first, l, linears[i].second->w, true);
      add(*biases[i], l, linears[i].second->b, false);
    }
  }
  add_norm(n.out_norm_w, 0, m.out_norm.w);
  add(n.out_norm_b, 0, m.out_norm.b, false);
  if (!c.block.tied_embeddings) add(n.lm_head_w, 0, m.lm_head.w, false);
  add(n.lm_head_b, 0, m.lm_head.b, false);
  for (const Model::HeadLayer& h : m.head) {  // the task head under its Hugging Face names
    add(weight_of(h.spec.module), 0, h.lin.w, false);
    add(bias_of(h.spec.module), 0, h.lin.b, false);
  }
  return out;
}

Status save_hf_folder(const Model& m, const std::string& dir, const std::string& tokenizer_dir, bool overwrite) {
  PEFT_ASSIGN_OR_RETURN(OutputDir out, OutputDir::create(dir, overwrite));
  PEFT_TRY(write_json_file(out.file("config.json"), m.hf_config));
  std::vector<OwnedTensor> storage;
  std::vector<NamedTensor> tensors;
  for (const HfTensor& t : hf_tensors(m)) {
    if (t.minus != 0.f) {  // a norm weight (F32, 1-D)
      OwnedTensor w = to_f32(t.tensor);
      for (int64_t i = 0; i < w.view().numel(); ++i) w.f32()[i] -= t.minus;
      tensors.push_back({t.name, w.view()});
      storage.push_back(std::move(w));
      continue;
    }
    // Safetensors has no block types: a quantized matrix (a GGUF base's, untouched by a merge)
    // is written decoded, as bf16 (--base-dtype f32 loads the base as f32 instead).
    const bool quantized = dtype_is_quantized(t.tensor.dtype);
    const DType type = quantized ? DType::BF16 : t.tensor.dtype;
    if (!t.transposed && t.tensor.is_contiguous() && !quantized) {
      tensors.push_back({t.name, t.tensor});
      continue;
    }
    OwnedTensor f = to_f32(t.tensor);
    if (!t.transposed) {
      OwnedTensor back(type, t.tensor.dims());
      convert_from_f32(back.view().data, type, f.f32(), size_t(f.numel()));
      tensors.push_back({t.name, back.view()});
      storage.push_back(std::move(back));
      continue;
    }
    const int64_t rows = t.tensor.dim(0), cols = t.tensor.dim(1);
    OwnedTensor tr(DType::F32, {cols, rows});
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c) tr.f32()[c * rows + r] = f.f32()[r * cols + c];
    OwnedTensor back(type, {cols, rows});
    convert_from_f32(back.view().data, type, tr.f32(), size_t(rows * cols));
    tensors.push_back({t.name, back.view()});
    storage.push_back(std::move(back));
  }
  PEFT_TRY(write_safetensors(out.file("model.safetensors"), tensors, {{"format", "pt"}}));
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!tokenizer_dir.empty() && fs::is_directory(tokenizer_dir, ec))
    for (const char* name : {"tokenizer.model", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                             "generation_config.json", "vocab.json", "merges.txt", "encoder.json", "vocab.bpe",
                             "vocab.txt", "spm.model", "added_tokens.json"}) {
      const std::string src = tokenizer_dir + "/" + name;
      if (fs::is_regular_file(src, ec)) PEFT_TRY(copy_file_atomic(src, out.file(name)));
    }
  return out.commit();
}

}  // namespace peft
