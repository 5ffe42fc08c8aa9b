// llama2.c checkpoint reader: real stories260K, synthetic v0/v1 files with known values, bad files.
#include "io/llama2c.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

namespace peft {
namespace {

namespace fs = std::filesystem;
const std::string kShared = PEFT_SHARED_DIR;
const std::string kStories = kShared + "/data/models/stories260K/stories260K.bin";

fs::path temp_dir(const std::string& tag) {
  fs::path dir = fs::temp_directory_path() / ("peft_llama2c_" + tag + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// A tiny checkpoint written the way llama2.c's export.py does, every float distinct
// (1000 * array number + element index) so any misplaced row shows up.
struct Synthetic {
  int32_t dim = 8, hidden = 12, layers = 2, heads = 2, kv_heads = 1, vocab = 16, seq = 4;
  bool shared = true;
  std::map<std::string, std::vector<float>> arrays;  // llama2.c names: "wq1", "rms_final", ...
  int next_id = 1;

  int kv_dim() const { return dim / heads * kv_heads; }
  const std::vector<float>& make(const std::string& name, int64_t n) {
    auto& a = arrays[name];
    a.resize(size_t(n));
    for (int64_t i = 0; i < n; ++i) a[size_t(i)] = float(1000 * next_id + i);
    ++next_id;
    return a;
  }
  Synthetic(bool shared_classifier) : shared(shared_classifier) {
    make("tok", vocab * dim);
    for (int l = 0; l < layers; ++l) {
      std::string s = std::to_string(l);
      make("rms_att" + s, dim);
      make("wq" + s, dim * dim);
      make("wk" + s, kv_dim() * dim);
      make("wv" + s, kv_dim() * dim);
      make("wo" + s, dim * dim);
      make("rms_ffn" + s, dim);
      make("w1" + s, hidden * dim);
      make("w2" + s, dim * hidden);
      make("w3" + s, hidden * dim);
    }
    make("rms_final", dim);
    make("freq_real", seq * (dim / heads / 2));
    make("freq_imag", seq * (dim / heads / 2));
    if (!shared) make("wcls", vocab * dim);
  }

  void write(const fs::path& path, int version) const {
    std::ofstream out(path, std::ios::binary);
    auto put = [&](const std::string& name) {
      const auto& a = arrays.at(name);
      out.write(reinterpret_cast<const char*>(a.data()), std::streamsize(a.size() * 4));
    };
    auto put_layers = [&](const std::string& prefix) {
      for (int l = 0; l < layers; ++l) put(prefix + std::to_string(l));
    };
    auto put_i32 = [&](int32_t v) { out.write(reinterpret_cast<const char*>(&v), 4); };
    if (version == 0) {
      for (int32_t v : {dim, hidden, layers, heads, kv_heads, shared ? vocab : -vocab, seq}) put_i32(v);
      put("tok");
      for (const char* p : {"rms_att", "wq", "wk", "wv", "wo", "rms_ffn", "w1", "w2", "w3"}) put_layers(p);
      put("rms_final");
      put("freq_real");
      put("freq_imag");
    } else {
      uint32_t magic = 0x616b3432;
      out.write(reinterpret_cast<const char*>(&magic), 4);
      put_i32(1);
      for (int32_t v : {dim, hidden, layers, heads, kv_heads, vocab, seq}) put_i32(v);
      out.put(char(shared ? 1 : 0));
      std::string pad(256 - 37, '\0');
      out.write(pad.data(), std::streamsize(pad.size()));
      put_layers("rms_att");
      put_layers("rms_ffn");
      put("rms_final");
      put("tok");
      for (const char* p : {"wq", "wk", "wv", "wo", "w1", "w2", "w3"}) put_layers(p);
    }
    if (!shared) put("wcls");
  }
};

std::vector<float> values(const OwnedTensor& t) { return {t.f32(), t.f32() + t.numel()}; }

void check_synthetic(const Synthetic& s, const Llama2cCheckpoint& ck) {
  const Llama2cConfig& c = ck.config;
  EXPECT_EQ(c.dim, 8);
  EXPECT_EQ(c.hidden_dim, 12);
  EXPECT_EQ(c.n_layers, 2);
  EXPECT_EQ(c.n_heads, 2);
  EXPECT_EQ(c.n_kv_heads, 1);
  EXPECT_EQ(c.vocab_size, 16);
  EXPECT_EQ(c.seq_len, 4);
  EXPECT_EQ(c.shared_classifier, s.shared);
  ASSERT_EQ(ck.tensors.size(), size_t(1 + 2 * 9 + 1 + (s.shared ? 0 : 1)));
  EXPECT_EQ(ck.tensors.front().first, "model.embed_tokens.weight");
  EXPECT_EQ(ck.tensors[1].first, "model.layers.0.input_layernorm.weight");
  EXPECT_EQ(ck.tensors[2].first, "model.layers.0.self_attn.q_proj.weight");
  EXPECT_EQ(ck.tensors.back().first, s.shared ? "model.norm.weight" : "lm_head.weight");

  auto get = [&](const std::string& name) -> const OwnedTensor& {
    const OwnedTensor* t = ck.find(name);
    EXPECT_TRUE(t) << name;
    static OwnedTensor empty;
    return t ? *t : empty;
  };
  EXPECT_EQ(get("model.embed_tokens.weight").view().dims(), (std::vector<int64_t>{16, 8}));
  EXPECT_EQ(values(get("model.embed_tokens.weight")), s.arrays.at("tok"));
  EXPECT_EQ(get("model.norm.weight").view().dims(), (std::vector<int64_t>{8}));
  EXPECT_EQ(values(get("model.norm.weight")), s.arrays.at("rms_final"));
  for (int l = 0; l < 2; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".", L = std::to_string(l);
    EXPECT_EQ(values(get(p + "input_layernorm.weight")), s.arrays.at("rms_att" + L));
    EXPECT_EQ(values(get(p + "post_attention_layernorm.weight")), s.arrays.at("rms_ffn" + L));
    EXPECT_EQ(values(get(p + "self_attn.v_proj.weight")), s.arrays.at("wv" + L));
    EXPECT_EQ(values(get(p + "self_attn.o_proj.weight")), s.arrays.at("wo" + L));
    EXPECT_EQ(values(get(p + "mlp.gate_proj.weight")), s.arrays.at("w1" + L));
    EXPECT_EQ(values(get(p + "mlp.down_proj.weight")), s.arrays.at("w2" + L));
    EXPECT_EQ(values(get(p + "mlp.up_proj.weight")), s.arrays.at("w3" + L));
    EXPECT_EQ(get(p + "self_attn.k_proj.weight").view().dims(), (std::vector<int64_t>{4, 8}));
    EXPECT_EQ(get(p + "mlp.down_proj.weight").view().dims(), (std::vector<int64_t>{8, 12}));
    // head_size 4: within each head HF row (j*2 + i) is llama2.c row (2*i + j).
    const int q_rows[8] = {0, 2, 1, 3, 4, 6, 5, 7};
    const int k_rows[4] = {0, 2, 1, 3};
    const float* q = get(p + "self_attn.q_proj.weight").f32();
    const float* k = get(p + "self_attn.k_proj.weight").f32();
    const auto& wq = s.arrays.at("wq" + L);
    const auto& wk = s.arrays.at("wk" + L);
    for (int r = 0; r < 8; ++r)
      for (int col = 0; col < 8; ++col) EXPECT_EQ(q[r * 8 + col], wq[size_t(q_rows[r] * 8 + col)]) << r;
    for (int r = 0; r < 4; ++r)
      for (int col = 0; col < 8; ++col) EXPECT_EQ(k[r * 8 + col], wk[size_t(k_rows[r] * 8 + col)]) << r;
  }
  if (s.shared) {
    EXPECT_EQ(ck.find("lm_head.weight"), nullptr);
  } else {
    EXPECT_EQ(values(get("lm_head.weight")), s.arrays.at("wcls"));
  }
}

TEST(Llama2c, Stories260K) {
  auto ck = read_llama2c(kStories);
  ASSERT_TRUE(ck.is_ok()) << ck.status().message();
  const Llama2cConfig& c = ck->config;
  EXPECT_EQ(c.version, 0);
  EXPECT_EQ(c.dim, 64);
  EXPECT_EQ(c.hidden_dim, 172);
  EXPECT_EQ(c.n_layers, 5);
  EXPECT_EQ(c.n_heads, 8);
  EXPECT_EQ(c.n_kv_heads, 4);
  EXPECT_EQ(c.vocab_size, 512);
  EXPECT_EQ(c.seq_len, 512);
  EXPECT_TRUE(c.shared_classifier);
  EXPECT_EQ(ck->tensors.size(), 1u + 5 * 9 + 1);
  EXPECT_EQ(ck->find("model.embed_tokens.weight")->view().dims(), (std::vector<int64_t>{512, 64}));
  EXPECT_EQ(ck->find("model.layers.4.self_attn.q_proj.weight")->view().dims(), (std::vector<int64_t>{64, 64}));
  EXPECT_EQ(ck->find("model.layers.4.self_attn.k_proj.weight")->view().dims(), (std::vector<int64_t>{32, 64}));
  EXPECT_EQ(ck->find("model.layers.0.mlp.gate_proj.weight")->view().dims(), (std::vector<int64_t>{172, 64}));
  EXPECT_EQ(ck->find("model.layers.0.mlp.down_proj.weight")->view().dims(), (std::vector<int64_t>{64, 172}));
  EXPECT_EQ(ck->find("model.norm.weight")->view().dims(), (std::vector<int64_t>{64}));
  EXPECT_EQ(ck->find("lm_head.weight"), nullptr);
  // RMSNorm gains of a trained model sit around 1, unlike any weight matrix: a cheap
  // check that the arrays were not read shifted.
  const OwnedTensor* norm = ck->find("model.norm.weight");
  double mean = 0;
  for (int64_t i = 0; i < 64; ++i) mean += norm->f32()[i] / 64.0;
  EXPECT_GT(mean, 0.3);
  EXPECT_LT(mean, 5.0);
}

TEST(Llama2c, SyntheticAllVariants) {
  fs::path dir = temp_dir("synthetic");
  for (int version : {0, 1}) {
    for (bool shared : {true, false}) {
      SCOPED_TRACE(testing::Message() << "version " << version << " shared " << shared);
      Synthetic s(shared);
      fs::path path = dir / ("tiny_v" + std::to_string(version) + (shared ? "_shared" : "_cls") + ".bin");
      s.write(path, version);
      auto ck = read_llama2c(path.string());
      ASSERT_TRUE(ck.is_ok()) << ck.status().message();
      EXPECT_EQ(ck->config.version, version);
      check_synthetic(s, *ck);
    }
  }
  fs::remove_all(dir);
}

TEST(Llama2c, TruncatedByOneByte) {
  fs::path dir = temp_dir("truncated");
  fs::path path = dir / "cut.bin";
  fs::copy_file(kStories, path);
  fs::resize_file(path, fs::file_size(kStories) - 1);
  auto ck = read_llama2c(path.string());
  ASSERT_FALSE(ck.is_ok());
  EXPECT_EQ(ck.status().message(),
            path.string() +
                ": truncated llama2.c checkpoint: expected 1056540 bytes for dim=64, "
                "hidden_dim=172, n_layers=5, n_heads=8, n_kv_heads=4, vocab_size=512, seq_len=512, found 1056539");
  // One byte too many is also refused (a different format or a corrupt file).
  fs::resize_file(path, fs::file_size(kStories) + 1);
  ck = read_llama2c(path.string());
  ASSERT_FALSE(ck.is_ok());
  EXPECT_NE(ck.status().message().find("oversized llama2.c checkpoint: expected 1056540 bytes"), std::string::npos);
  fs::remove_all(dir);
}

TEST(Llama2c, BadHeaders) {
  fs::path dir = temp_dir("headers");
  auto write_ints = [&](const std::string& name, std::vector<int32_t> ints) {
    fs::path p = dir / name;
    std::ofstream out(p, std::ios::binary);
    out.write(reinterpret_cast<const char*>(ints.data()), std::streamsize(ints.size() * 4));
    out.close();
    return p.string();
  };
  auto error_of = [](const std::string& path) {
    auto ck = read_llama2c(path);
    EXPECT_FALSE(ck.is_ok()) << path;
    return ck.is_ok() ? std::string() : ck.status().message();
  };
  std::string zeros = write_ints("zeros.bin", std::vector<int32_t>(7, 0));
  EXPECT_EQ(error_of(zeros).rfind(zeros + ": invalid llama2.c header (dim=0", 0), 0u) << error_of(zeros);
  EXPECT_NE(error_of(zeros).find("every size must be positive"), std::string::npos);
  EXPECT_NE(error_of(write_ints("heads.bin", {10, 12, 1, 3, 1, 16, 4})).find("dim is not a multiple of n_heads"),
            std::string::npos);
  EXPECT_NE(error_of(write_ints("kv.bin", {8, 12, 1, 4, 3, 16, 4})).find("n_heads is not a multiple of n_kv_heads"),
            std::string::npos);
  EXPECT_NE(error_of(write_ints("odd.bin", {6, 12, 1, 2, 1, 16, 4})).find("must be even"), std::string::npos);
  EXPECT_NE(error_of(write_ints("short.bin", {8, 12})).find("too small"), std::string::npos);
  // A huge header must not overflow the size computation.
  EXPECT_NE(error_of(write_ints("huge.bin", {1 << 30, 1 << 30, 1 << 30, 1 << 20, 1 << 20, 1 << 30, 1 << 30}))
                .find("truncated llama2.c checkpoint: expected more than 2^63 bytes"),
            std::string::npos);
  std::vector<int32_t> v2(64, 0);
  v2[0] = 0x616b3432;
  v2[1] = 2;
  EXPECT_NE(error_of(write_ints("v2.bin", v2)).find("unsupported llama2.c export version 2"), std::string::npos);
  EXPECT_NE(error_of((dir / "missing.bin").string()).find("missing.bin: cannot read"), std::string::npos);
  fs::remove_all(dir);
}

TEST(Llama2c, PermuteRopeRowsMatchesFormula) {
  // n_heads 1, head_size 6, 1 column: view(1, 3, 2, 1).transpose(1, 2) -> rows 0,2,4,1,3,5.
  const float src[6] = {0, 1, 2, 3, 4, 5};
  float dst[6];
  permute_rope_rows(dst, src, 1, 6, 1);
  EXPECT_EQ(std::vector<float>(dst, dst + 6), (std::vector<float>{0, 2, 4, 1, 3, 5}));
}

}  // namespace
}  // namespace peft
