// llama2.c checkpoint reader: validates the header and size, then reads fp32 arrays in file order.
#include "io/llama2c.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

namespace peft {
namespace {

constexpr uint32_t kMagic = 0x616b3432;  // "ak42" little-endian, export.py version >= 1
constexpr int64_t kLegacyHeaderBytes = 7 * sizeof(int32_t);
constexpr int64_t kV1HeaderBytes = 256;

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

std::string describe(const Llama2cConfig& c) {
  return fmt::format("dim={}, hidden_dim={}, n_layers={}, n_heads={}, n_kv_heads={}, vocab_size={}, seq_len={}", c.dim,
                     c.hidden_dim, c.n_layers, c.n_heads, c.n_kv_heads, c.vocab_size, c.seq_len);
}

Status validate(const Llama2cConfig& c, const std::string& path) {
  auto bad = [&](const std::string& why) {
    return Status::errorf("{}: invalid llama2.c header ({}): {}", path, describe(c), why);
  };
  if (c.dim <= 0 || c.hidden_dim <= 0 || c.n_layers <= 0 || c.n_heads <= 0 || c.n_kv_heads <= 0 || c.vocab_size <= 0 ||
      c.seq_len <= 0) {
    return bad("every size must be positive");
  }
  if (c.dim % c.n_heads != 0) return bad("dim is not a multiple of n_heads");
  if (c.n_heads % c.n_kv_heads != 0) return bad("n_heads is not a multiple of n_kv_heads");
  if (c.head_size() % 2 != 0) return bad("head size dim/n_heads must be even for RoPE");
  return Status::ok();
}

// One array in the file, in file order. `name` empty = skipped (llama2.c's freq_cis tables).
struct Array {
  std::string name;
  int64_t rows = 0;
  int64_t cols = 0;
  int64_t permute_heads = 0;  // > 0: rows are wq/wk, permute from interleaved RoPE
  bool vector = false;        // 1-D (norm gains): shape [cols]
};

std::string layer_name(int layer, const char* suffix) { return fmt::format("model.layers.{}.{}", layer, suffix); }

std::vector<Array> file_layout(const Llama2cConfig& c) {
  const int64_t L = c.n_layers, dim = c.dim, hidden = c.hidden_dim, kv = c.kv_dim();
  // rows == 0 marks a 1-D norm gain of `cols` floats.
  auto per_layer = [&](std::vector<Array>& out, const char* suffix, int64_t rows, int64_t cols, int64_t heads = 0) {
    for (int i = 0; i < L; ++i) out.push_back({layer_name(i, suffix), rows, cols, heads, rows == 0});
  };
  std::vector<Array> out;
  const Array embed{"model.embed_tokens.weight", c.vocab_size, dim};
  const Array norm{"model.norm.weight", 1, dim, 0, true};
  auto matrices = [&] {
    per_layer(out, "self_attn.q_proj.weight", dim, dim, c.n_heads);
    per_layer(out, "self_attn.k_proj.weight", kv, dim, c.n_kv_heads);
    per_layer(out, "self_attn.v_proj.weight", kv, dim);
    per_layer(out, "self_attn.o_proj.weight", dim, dim);
  };
  auto ffn = [&] {
    per_layer(out, "mlp.gate_proj.weight", hidden, dim);  // w1
    per_layer(out, "mlp.down_proj.weight", dim, hidden);  // w2
    per_layer(out, "mlp.up_proj.weight", hidden, dim);    // w3
  };
  if (c.version == 0) {
    // run.c memory_map_weights order.
    out.push_back(embed);
    per_layer(out, "input_layernorm.weight", 0, dim);
    matrices();
    per_layer(out, "post_attention_layernorm.weight", 0, dim);
    ffn();
    out.push_back(norm);
    out.push_back({"", c.seq_len, c.head_size() / 2});  // freq_cis_real
    out.push_back({"", c.seq_len, c.head_size() / 2});  // freq_cis_imag
  } else {
    // export.py version1_export: all norms first, then the matrices.
    per_layer(out, "input_layernorm.weight", 0, dim);
    per_layer(out, "post_attention_layernorm.weight", 0, dim);
    out.push_back(norm);
    out.push_back(embed);
    matrices();
    ffn();
  }
  if (!c.shared_classifier) out.push_back({"lm_head.weight", c.vocab_size, dim});
  return out;
}

// HF order: embed, per layer (norms, q, k, v, o, mlp), final norm, lm_head.
int hf_rank(const std::string& name) {
  static const char* kOrder[] = {"input_layernorm",  "self_attn.q_proj", "self_attn.k_proj",
                                 "self_attn.v_proj", "self_attn.o_proj", "post_attention_layernorm",
                                 "mlp.gate_proj",    "mlp.up_proj",      "mlp.down_proj"};
  for (int i = 0; i < 9; ++i) {
    if (name.find(kOrder[i]) != std::string::npos) return i;
  }
  return 0;
}

}  // namespace

void permute_rope_rows(float* dst, const float* src, int64_t n_heads, int64_t head_size, int64_t cols) {
  const int64_t half = head_size / 2;
  for (int64_t h = 0; h < n_heads; ++h) {
    for (int64_t j = 0; j < 2; ++j) {
      for (int64_t i = 0; i < half; ++i) {
        const float* from = src + (h * head_size + 2 * i + j) * cols;
        float* to = dst + (h * head_size + j * half + i) * cols;
        std::memcpy(to, from, size_t(cols) * sizeof(float));
      }
    }
  }
}

const OwnedTensor* Llama2cCheckpoint::find(const std::string& name) const {
  for (const auto& [n, t] : tensors) {
    if (n == name) return &t;
  }
  return nullptr;
}

Result<Llama2cCheckpoint> read_llama2c(const std::string& path) {
  std::error_code ec;
  const auto file_size = std::filesystem::file_size(path, ec);
  if (ec) return Status::errorf("{}: cannot read llama2.c checkpoint: {}", path, ec.message());
  FilePtr f(std::fopen(path.c_str(), "rb"));
  if (!f) return Status::errorf("{}: cannot open: {}", path, std::strerror(errno));

  unsigned char header[kV1HeaderBytes] = {};
  const size_t got = std::fread(header, 1, sizeof(header), f.get());
  if (got < size_t(kLegacyHeaderBytes)) {
    return Status::errorf("{}: too small for a llama2.c checkpoint ({} bytes, the header alone is {})", path, file_size,
                          kLegacyHeaderBytes);
  }
  auto i32_at = [&](size_t offset) {
    int32_t v;
    std::memcpy(&v, header + offset, 4);
    return v;
  };
  uint32_t magic;
  std::memcpy(&magic, header, 4);

  Llama2cCheckpoint ck;
  Llama2cConfig& c = ck.config;
  int64_t header_bytes = kLegacyHeaderBytes;
  size_t params_at = 0;
  if (magic == kMagic) {
    if (got < size_t(kV1HeaderBytes)) {
      return Status::errorf("{}: truncated llama2.c header: expected {} bytes, found {}", path, kV1HeaderBytes,
                            file_size);
    }
    c.version = i32_at(4);
    if (c.version != 1) {
      return Status::errorf(
          "{}: unsupported llama2.c export version {} (supported: legacy 0 and "
          "fp32 version 1; version 2 is int8-quantized)",
          path, c.version);
    }
    header_bytes = kV1HeaderBytes;
    params_at = 8;
  }
  c.dim = i32_at(params_at + 0);
  c.hidden_dim = i32_at(params_at + 4);
  c.n_layers = i32_at(params_at + 8);
  c.n_heads = i32_at(params_at + 12);
  c.n_kv_heads = i32_at(params_at + 16);
  c.vocab_size = i32_at(params_at + 20);
  c.seq_len = i32_at(params_at + 24);
  if (c.version == 0) {
    // Legacy: a negative vocab_size flags a separate classifier.
    c.shared_classifier = c.vocab_size > 0;
    if (c.vocab_size < 0 && c.vocab_size != INT32_MIN) c.vocab_size = -c.vocab_size;
  } else {
    c.shared_classifier = header[params_at + 28] != 0;
  }
  PEFT_TRY(validate(c, path));

  // Exact size, in 128-bit arithmetic so absurd headers cannot overflow.
  // Computed from the formula before file_layout(), whose per-layer list would be huge
  // for a garbage header.
  using I = __int128;
  const I per_layer = 2 * I(c.dim) + 2 * I(c.dim) * c.dim + 2 * I(c.kv_dim()) * c.dim + 3 * I(c.hidden_dim) * c.dim;
  const I freq_cis = c.version == 0 ? I(c.seq_len) * c.head_size() : 0;  // real + imag halves
  const I n_floats =
      I(c.vocab_size) * c.dim * (c.shared_classifier ? 1 : 2) + I(c.n_layers) * per_layer + c.dim + freq_cis;
  const I expected = header_bytes + I(sizeof(float)) * n_floats;
  if (expected != __int128(file_size)) {
    const bool shorter = __int128(file_size) < expected;
    const std::string expected_str =
        expected > __int128(INT64_MAX) ? std::string("more than 2^63") : std::to_string(int64_t(expected));
    return Status::errorf("{}: {} llama2.c checkpoint: expected {} bytes for {}{}, found {}", path,
                          shorter ? "truncated" : "oversized", expected_str, describe(c),
                          c.shared_classifier ? "" : " (separate classifier)", file_size);
  }

  const std::vector<Array> layout = file_layout(c);
  if (std::fseek(f.get(), long(header_bytes), SEEK_SET) != 0) {
    return Status::errorf("{}: seek failed: {}", path, std::strerror(errno));
  }
  std::vector<std::pair<std::string, OwnedTensor>> loaded;
  std::vector<float> scratch;
  for (const Array& a : layout) {
    const size_t n = a.vector ? size_t(a.cols) : size_t(a.rows) * size_t(a.cols);
    if (a.name.empty()) {
      if (std::fseek(f.get(), long(n * sizeof(float)), SEEK_CUR) != 0) {
        return Status::errorf("{}: seek failed: {}", path, std::strerror(errno));
      }
      continue;
    }
    std::vector<int64_t> dims = a.vector ? std::vector<int64_t>{a.cols} : std::vector<int64_t>{a.rows, a.cols};
    OwnedTensor t(DType::F32, dims);
    float* dst = t.f32();
    if (a.permute_heads > 0) scratch.resize(n);
    float* read_into = a.permute_heads > 0 ? scratch.data() : dst;
    if (std::fread(read_into, sizeof(float), n, f.get()) != n) {
      return Status::errorf("{}: read error in {}", path, a.name);
    }
    if (a.permute_heads > 0) {
      permute_rope_rows(dst, scratch.data(), a.permute_heads, c.head_size(), a.cols);
    }
    loaded.emplace_back(a.name, std::move(t));
  }

  // Put the tensors in HF model order whatever the file order was.
  auto position = [&](const std::string& name) -> std::pair<int64_t, int> {
    if (name == "model.embed_tokens.weight") return {-1, 0};
    if (name == "model.norm.weight") return {INT32_MAX, 0};
    if (name == "lm_head.weight") return {INT32_MAX, 1};
    const int layer = std::stoi(name.substr(std::strlen("model.layers.")));
    return {layer, hf_rank(name)};
  };
  std::stable_sort(loaded.begin(), loaded.end(),
                   [&](const auto& x, const auto& y) { return position(x.first) < position(y.first); });
  ck.tensors = std::move(loaded);
  return ck;
}

}  // namespace peft
