// Model → GGUF: the architecture's metadata keys, llama.cpp's tensor names and row orders.
#include "model/gguf_export.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "io/gguf_writer.h"
#include "model/gguf_names.h"
#include "quant/quant.h"

namespace peft {

std::optional<GgmlType> ggml_type_from_flag(const std::string& flag) {
  if (flag == "f32") return GgmlType::F32;
  if (flag == "f16") return GgmlType::F16;
  if (flag == "bf16") return GgmlType::BF16;
  if (flag == "q8_0") return GgmlType::Q8_0;
  if (flag == "q4_0") return GgmlType::Q4_0;
  if (flag == "q4_k") return GgmlType::Q4_K;
  return std::nullopt;
}

uint32_t gguf_file_type(GgmlType t) {
  switch (t) {
    case GgmlType::F16:
      return 1;
    case GgmlType::Q8_0:
      return 7;
    case GgmlType::Q4_0:
      return 2;
    case GgmlType::Q4_K:
      return 14;  // LLAMA_FTYPE_MOSTLY_Q4_K_S: every matrix Q4_K
    case GgmlType::BF16:
      return 32;
    default:
      return 0;
  }
}

std::string encode_matrix(const float* data, int64_t rows, int64_t cols, GgmlType type, GgmlType& used) {
  const std::optional<DType> dt = dtype_from_ggml(uint32_t(type));
  used =
      dt && dtype_is_quantized(*dt) && cols % quant_block(*dt) != 0 ? GgmlType::F16 : type;  // as llama.cpp's converter
  return encode_ggml(data, rows * cols, used);
}

namespace {

// The written bytes decoded again, against the values they store.
StorageError storage_error(const std::string& name, GgmlType type, const float* want, const std::string& bytes,
                           int64_t n) {
  std::vector<float> got(static_cast<size_t>(n));
  convert_to_f32(got.data(), bytes.data(), *dtype_from_ggml(uint32_t(type)), size_t(n));
  StorageError e{name, type, 0, 0, 0, n};
  double se = 0, sw = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double d = double(got[size_t(i)]) - double(want[i]);
    se += d * d;
    sw += double(want[i]) * double(want[i]);
    e.max_error = std::max(e.max_error, std::fabs(d));
  }
  e.rms_error = std::sqrt(se / double(std::max<int64_t>(n, 1)));
  e.rms_weight = std::sqrt(sw / double(std::max<int64_t>(n, 1)));
  return e;
}

}  // namespace

Status export_gguf(const Model& m, const GgufVocab* vocab, const GgufExportOptions& opt, const std::string& path) {
  const ModelConfig& c = m.config;
  const GgufArchDef* arch = m.arch ? m.arch->gguf : nullptr;
  if (!arch)
    return Status::errorf("{}: llama.cpp has no '{}' architecture (GGUF export supports: {})", m.path, c.arch,
                          supported_gguf_archs());
  GgufWriter w;
  w.set_string("general.architecture", arch->name);
  w.set_string("general.type", "model");
  w.set_string("general.name", opt.name.empty() ? arch->name : opt.name);
  w.set_u32("general.file_type", gguf_file_type(opt.type));
  w.set_u32("general.quantization_version", 2);
  PEFT_TRY(arch->write_hparams(c, w, m.path));
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

  int64_t fell_back = 0;  // matrices whose rows are not whole blocks of opt.type: written F16
  auto write = [&](const GgufRole& role, int64_t l) -> Status {
    const Tensor t = role.bound(m, l);
    if (!t.data) return Status::ok();
    const std::string name = gguf_tensor_name(role, l);
    const int64_t rows = t.dim(0), cols = t.ndim >= 2 ? t.numel() / rows : 1;
    const GgufRowFix fix = gguf_row_fix(*arch, role, c);
    // Already stored in the wanted quantized type: the blocks as they are, rows reordered.
    if (dtype_is_quantized(t.dtype) && ggml_from_dtype(t.dtype) == uint32_t(opt.type)) {
      std::string bytes(t.nbytes(), '\0');
      PEFT_TRY(reorder_rows(fix, /*to_gguf=*/true, bytes.data(), t.data, rows, quant_row_bytes(t.dtype, cols),
                            m.path + ": " + name));
      w.add_tensor(name, opt.type, t.dims(), std::move(bytes));
      return Status::ok();
    }
    const OwnedTensor f = to_f32(t);
    OwnedTensor out(DType::F32, t.dims());
    PEFT_TRY(reorder_rows(fix, /*to_gguf=*/true, out.f32(), f.f32(), rows, size_t(cols) * sizeof(float),
                          m.path + ": " + name));
    if (t.ndim >= 2) {  // matrices in the chosen type, the rest (norms, biases) F32
      GgmlType used;
      std::string bytes = encode_matrix(out.f32(), rows, cols, opt.type, used);
      if (used != opt.type) ++fell_back;
      if (opt.storage_errors && used != GgmlType::F32)
        opt.storage_errors->push_back(storage_error(name, used, out.f32(), bytes, t.numel()));
      w.add_tensor(name, used, t.dims(), std::move(bytes));
    } else {
      w.add_tensor(name, GgmlType::F32, t.dims(), encode_ggml(out.f32(), t.numel(), GgmlType::F32));
    }
    return Status::ok();
  };
  // llama.cpp's converter order: the global tensors, then block by block.
  for (const GgufRole& role : gguf_roles())
    if (!role.per_layer) PEFT_TRY(write(role, 0));
  for (int64_t l = 0; l < c.n_layer; ++l)
    for (const GgufRole& role : gguf_roles())
      if (role.per_layer) PEFT_TRY(write(role, l));
  if (fell_back > 0)
    fmt::print(stderr, "note: {} matrices written as F16: their rows are not whole {} blocks\n", fell_back,
               ggml_type_name(uint32_t(opt.type)));
  return w.write(path);
}

}  // namespace peft
