// A GGUF file's tensors under Hugging Face names, with llama.cpp's layout changes undone.
#include <cstring>
#include <map>
#include <optional>

#include "model/gguf_model.h"
#include "model/gguf_names.h"
#include "model/math_keys.h"

namespace peft {

namespace {

struct Mapped {
  std::string hf;
  GgufRowFix rows;
  bool transpose = false;  // GPT-2's Conv1D stores projections (in, out)
  float minus = 0.f;       // norm weights: the file holds offset + w, Hugging Face names hold w
};

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

  // Quantized tensors stay in their blocks (an mmap view, or a row-reordered copy); they are
  // never transposed (ggml holds every matrix (out, in), which is how peft binds them).
  Status add(const GgufTensorInfo& info, Mapped m) {
    OwnedTensor holder;
    PEFT_ASSIGN_OR_RETURN(Tensor src, file_->view(info));
    if (dtype_is_quantized(src.dtype)) m.transpose = false;
    Tensor out = src;
    if (m.minus != 0.f) {
      OwnedTensor w = to_f32(src);
      for (int64_t i = 0; i < w.view().numel(); ++i) w.f32()[i] -= m.minus;
      holder = std::move(w);
      out = holder.view();
    } else if (m.rows.rows != GgufRows::Same || m.transpose) {
      PEFT_ASSIGN_OR_RETURN(OwnedTensor fixed, undo_layout(info, src, m));
      holder = std::move(fixed);
      out = holder.view();
    }
    if (!holder.empty()) owned_.push_back(std::move(holder));  // heap storage: `out` stays valid
    tensors_[m.hf] = out;
    gguf_names_[m.hf] = info.name;
    return Status::ok();
  }

 private:
  Result<OwnedTensor> undo_layout(const GgufTensorInfo& info, const Tensor& src, const Mapped& m) const {
    const size_t esize = dtype_size(src.dtype);
    const int64_t rows = src.ndim >= 1 ? src.dim(0) : 1;
    int64_t cols = 1;  // the values of one row (a product, not numel / rows: a dimension may be 0)
    for (int d = 1; d < src.ndim; ++d) cols *= src.dim(d);
    const size_t row_bytes = dtype_nbytes(src.dtype, cols);
    OwnedTensor t(src.dtype, src.dims());
    PEFT_TRY(reorder_rows(m.rows, /*to_gguf=*/false, t.view().data, src.data, rows, row_bytes,
                          file_->path() + ": tensor '" + info.name + "'"));
    if (!m.transpose) return t;
    if (src.ndim != 2) return Status::errorf("{}: tensor '{}' should be a matrix", file_->path(), info.name);
    const int64_t r = src.dim(0), c = src.dim(1);
    OwnedTensor tr(src.dtype, {c, r});
    auto* d = static_cast<char*>(tr.view().data);
    const auto* s = static_cast<const char*>(t.view().data);
    for (int64_t i = 0; i < r; ++i)
      for (int64_t j = 0; j < c; ++j) std::memcpy(d + size_t(j * r + i) * esize, s + size_t(i * c + j) * esize, esize);
    return tr;
  }

  std::shared_ptr<const GgufFile> file_;
  std::map<std::string, Tensor> tensors_;
  std::map<std::string, std::string> gguf_names_;  // HF name → GGUF name
  std::vector<OwnedTensor> owned_;
};

}  // namespace

Result<std::shared_ptr<const TensorSource>> gguf_tensor_source(std::shared_ptr<const GgufFile> file, const Json& config,
                                                               const LoadOptions& options) {
  const std::string where = file->path() + " (GGUF metadata)";
  PEFT_ASSIGN_OR_RETURN(std::string model_type, json_get_string(config, "model_type", where));
  const ArchDef* arch = find_arch(model_type);
  if (!arch || !arch->gguf) return Status::errorf("{}: model_type '{}' has no GGUF layout", where, model_type);
  PEFT_ASSIGN_OR_RETURN(ModelConfig mc, parse_model_config(*arch, config, where));
  const TensorNames names = arch->tensor_names(mc);
  // A GGUF name → its Hugging Face name, from the file's own tensors (so the work follows the
  // file, whatever block_count claims; a block past it stays unmapped and unused, which
  // bind_weights reports).
  auto map_name = [&](const std::string& name) -> std::optional<Mapped> {
    int64_t layer = 0;
    std::string rest = name;
    const bool block = name.rfind("blk.", 0) == 0;
    if (block) {
      const size_t dot = name.find('.', 4);
      if (dot == std::string::npos || dot == 4 || dot - 4 > 9) return std::nullopt;
      const std::string digits = name.substr(4, dot - 4);
      if (digits.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
      layer = std::stoll(digits);
      rest = name.substr(dot + 1);
      if (layer >= mc.n_layer) return std::nullopt;
    }
    for (const GgufRole& role : gguf_roles()) {
      if (role.per_layer != block || rest != role.gguf) continue;
      const std::string& pattern = names.*role.hf;
      if (pattern.empty()) return std::nullopt;
      return Mapped{layer_name(pattern, layer), gguf_row_fix(*arch->gguf, role, mc), names.conv1d && role.linear_weight,
                    role.norm_weight ? mc.norm_weight_offset : 0.f};
    }
    return std::nullopt;
  };
  const bool tied = config.value("tie_word_embeddings", false);
  auto source = std::make_shared<GgufTensorSource>(file);
  for (const GgufTensorInfo& info : file->tensors()) {
    if (tied && info.name == "output.weight") continue;  // a copy of the embedding (gguf_hf_config checked)
    const Mapped m = map_name(info.name).value_or(Mapped{info.name, {}, false, 0.f});  // unknown: listed, never bound
    PEFT_TRY(source->add(info, m));
  }
  return std::shared_ptr<const TensorSource>(std::move(source));
}

}  // namespace peft
