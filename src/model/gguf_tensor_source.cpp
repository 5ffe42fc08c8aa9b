// A GGUF file's tensors under Hugging Face names, with llama.cpp's layout changes undone.
#include <cstring>
#include <map>

#include "model/gguf_model.h"

namespace peft {

namespace {

enum class Fix { None, PermuteQ, PermuteK, Transpose };

struct NameRow {
  const char* gguf;  // after "blk.N." for block tensors
  const char* hf;    // after the block prefix for block tensors
  Fix fix = Fix::None;
};

// Global tensors, then per-block suffixes; ".weight"/".bias" are appended by the lookup.
constexpr NameRow kLlamaGlobal[] = {
    {"token_embd", "model.embed_tokens"}, {"output_norm", "model.norm"}, {"output", "lm_head"}};
constexpr NameRow kLlamaBlock[] = {
    {"attn_norm", "input_layernorm"},        {"attn_q", "self_attn.q_proj", Fix::PermuteQ},
    {"attn_k", "self_attn.k_proj", Fix::PermuteK}, {"attn_v", "self_attn.v_proj"},
    {"attn_output", "self_attn.o_proj"},     {"ffn_norm", "post_attention_layernorm"},
    {"ffn_gate", "mlp.gate_proj"},           {"ffn_up", "mlp.up_proj"},
    {"ffn_down", "mlp.down_proj"}};
constexpr NameRow kGpt2Global[] = {{"token_embd", "transformer.wte"},
                                   {"position_embd", "transformer.wpe"},
                                   {"output_norm", "transformer.ln_f"},
                                   {"output", "lm_head"}};
constexpr NameRow kGpt2Block[] = {
    {"attn_norm", "ln_1"},  {"attn_qkv", "attn.c_attn", Fix::Transpose}, {"attn_output", "attn.c_proj", Fix::Transpose},
    {"ffn_norm", "ln_2"},   {"ffn_up", "mlp.c_fc", Fix::Transpose},      {"ffn_down", "mlp.c_proj", Fix::Transpose}};

struct Mapped {
  std::string hf;
  Fix fix = Fix::None;
};

// "blk.3.attn_q.weight" → {"model.layers.3.self_attn.q_proj.weight", PermuteQ}; nullopt
// when the name is not one the architecture knows.
std::optional<Mapped> map_name(const GgufArch& arch, const std::string& name) {
  const bool gpt2 = arch.conv1d;
  auto dot = name.rfind('.');
  if (dot == std::string::npos) return std::nullopt;
  const std::string stem = name.substr(0, dot), kind = name.substr(dot);  // ".weight" / ".bias"
  if (kind != ".weight" && kind != ".bias") return std::nullopt;
  auto lookup = [&](const auto& table, const std::string& key, const std::string& prefix) -> std::optional<Mapped> {
    for (const NameRow& r : table)
      if (key == r.gguf) return Mapped{prefix + r.hf + kind, kind == ".weight" ? r.fix : (r.fix == Fix::Transpose ? Fix::None : r.fix)};
    return std::nullopt;
  };
  if (stem.rfind("blk.", 0) != 0) return gpt2 ? lookup(kGpt2Global, stem, "") : lookup(kLlamaGlobal, stem, "");
  auto second = stem.find('.', 4);
  if (second == std::string::npos) return std::nullopt;
  const std::string layer = stem.substr(4, second - 4), rest = stem.substr(second + 1);
  if (layer.empty() || layer.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  return gpt2 ? lookup(kGpt2Block, rest, "transformer.h." + layer + ".")
              : lookup(kLlamaBlock, rest, "model.layers." + layer + ".");
}

class GgufTensorSource final : public TensorSource {
 public:
  explicit GgufTensorSource(std::shared_ptr<const GgufFile> f) : file_(std::move(f)) {}

  const Tensor* find(const std::string& name) const override {
    auto it = tensors_.find(name);
    return it == tensors_.end() ? nullptr : &it->second;
  }
  std::string file_of(const std::string& name) const override {
    auto it = gguf_names_.find(name);
    if (it == gguf_names_.end()) return "";
    return it->second == name ? file_->path() : file_->path() + " (GGUF tensor '" + it->second + "')";
  }
  std::vector<std::string> names() const override {
    std::vector<std::string> v;
    for (const auto& [k, t] : tensors_) v.push_back(k);
    return v;
  }

  Status add(const GgufTensorInfo& info, const Mapped& m, int64_t heads, DType quantized_to) {
    Tensor src;
    OwnedTensor holder;
    if (info.type == uint32_t(GgmlType::Q8_0)) {
      PEFT_ASSIGN_OR_RETURN(holder, file_->to_f32(info));
      if (quantized_to == DType::BF16 && info.ne.size() >= 2) {
        OwnedTensor narrow(DType::BF16, holder.view().dims());
        convert_from_f32(narrow.view().data, DType::BF16, holder.f32(), size_t(holder.numel()));
        holder = std::move(narrow);
      }
      src = holder.view();
    } else {
      PEFT_ASSIGN_OR_RETURN(src, file_->view(info));
    }
    Tensor out = src;
    if (m.fix != Fix::None) {
      PEFT_ASSIGN_OR_RETURN(OwnedTensor fixed, apply(info, src, m.fix, heads));
      holder = std::move(fixed);
      out = holder.view();
    }
    if (!holder.empty()) owned_.push_back(std::move(holder));  // heap storage: `out` stays valid
    tensors_[m.hf] = out;
    gguf_names_[m.hf] = info.name;
    return Status::ok();
  }

 private:
  Result<OwnedTensor> apply(const GgufTensorInfo& info, const Tensor& src, Fix fix, int64_t heads) const {
    const size_t esize = dtype_size(src.dtype);
    const int64_t rows = src.ndim >= 1 ? src.dim(0) : 1;
    const size_t row_bytes = src.ndim >= 2 ? size_t(src.dim(1)) * esize : esize;
    if (fix == Fix::Transpose) {
      if (src.ndim != 2) return Status::errorf("{}: tensor '{}' should be a matrix", file_->path(), info.name);
      const int64_t r = src.dim(0), c = src.dim(1);
      OwnedTensor t(src.dtype, {c, r});
      auto* d = static_cast<char*>(t.view().data);
      const auto* s = static_cast<const char*>(src.data);
      for (int64_t i = 0; i < r; ++i)
        for (int64_t j = 0; j < c; ++j) std::memcpy(d + size_t(j * r + i) * esize, s + size_t(i * c + j) * esize, esize);
      return t;
    }
    if (heads <= 0 || rows % (2 * heads) != 0)
      return Status::errorf("{}: tensor '{}' has {} rows, not a multiple of 2 x {} heads (cannot undo llama.cpp's "
                            "rotary permutation)", file_->path(), info.name, rows, heads);
    OwnedTensor t(src.dtype, src.dims());
    permute_rows_gguf_to_hf(t.view().data, src.data, rows, row_bytes, heads);
    return t;
  }

  std::shared_ptr<const GgufFile> file_;
  std::map<std::string, Tensor> tensors_;
  std::map<std::string, std::string> gguf_names_;  // HF name → GGUF name
  std::vector<OwnedTensor> owned_;
};

}  // namespace

void permute_rows_hf_to_gguf(void* dst, const void* src, int64_t rows, size_t row_bytes, int64_t n_head) {
  const int64_t hd = rows / n_head, half = hd / 2;
  auto* d = static_cast<char*>(dst);
  const auto* s = static_cast<const char*>(src);
  for (int64_t h = 0; h < n_head; ++h)
    for (int64_t sel = 0; sel < 2; ++sel)
      for (int64_t i = 0; i < half; ++i)
        std::memcpy(d + size_t(h * hd + 2 * i + sel) * row_bytes, s + size_t(h * hd + sel * half + i) * row_bytes,
                    row_bytes);
}

void permute_rows_gguf_to_hf(void* dst, const void* src, int64_t rows, size_t row_bytes, int64_t n_head) {
  const int64_t hd = rows / n_head, half = hd / 2;
  auto* d = static_cast<char*>(dst);
  const auto* s = static_cast<const char*>(src);
  for (int64_t h = 0; h < n_head; ++h)
    for (int64_t sel = 0; sel < 2; ++sel)
      for (int64_t i = 0; i < half; ++i)
        std::memcpy(d + size_t(h * hd + sel * half + i) * row_bytes, s + size_t(h * hd + 2 * i + sel) * row_bytes,
                    row_bytes);
}

Result<std::shared_ptr<const TensorSource>> gguf_tensor_source(std::shared_ptr<const GgufFile> file,
                                                                const Json& config, const LoadOptions& options) {
  PEFT_ASSIGN_OR_RETURN(std::string arch_name, file->get_string("general.architecture"));
  const GgufArch* arch = find_gguf_arch(arch_name);
  if (!arch)
    return Status::errorf("{}: unsupported GGUF architecture '{}' (supported: {})", file->path(), arch_name,
                          supported_gguf_archs());
  const std::string where = file->path() + " (GGUF metadata)";
  int64_t heads = 0, heads_kv = 0;
  if (arch->permuted_qk) {
    PEFT_ASSIGN_OR_RETURN(heads, json_get_int(config, "num_attention_heads", where));
    PEFT_ASSIGN_OR_RETURN(heads_kv, json_get_int_or(config, "num_key_value_heads", heads, where));
  }
  const bool tied = config.value("tie_word_embeddings", false);
  const DType quantized_to = options.base_dtype.value_or(DType::F32);
  auto source = std::make_shared<GgufTensorSource>(file);
  for (const GgufTensorInfo& info : file->tensors()) {
    std::optional<Mapped> m = map_name(*arch, info.name);
    if (!m) m = Mapped{info.name, Fix::None};  // unknown to us: listed, never bound
    if (tied && m->hf == "lm_head.weight") continue;  // a copy of the embedding
    if (!arch->permuted_qk && (m->fix == Fix::PermuteQ || m->fix == Fix::PermuteK)) m->fix = Fix::None;
    const int64_t h = m->fix == Fix::PermuteK ? heads_kv : heads;
    PEFT_TRY(source->add(info, *m, h, quantized_to));
  }
  return std::shared_ptr<const TensorSource>(std::move(source));
}

}  // namespace peft
