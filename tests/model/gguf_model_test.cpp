// GGUF models: export → load round trips (llama, gpt2, stories260K), llama.cpp layouts undone, tokenizer.
#include <gtest/gtest.h>

#include <cstring>
#include <sstream>

#include "cli/cli_runner.h"
#include "io/gguf.h"
#include "io/gguf_writer.h"
#include "io/safetensors.h"
#include "model/gguf_export.h"
#include "model/gguf_model.h"
#include "model/inference.h"
#include "model/model.h"
#include "test_paths.h"
#include "tokenizer/gguf_tokenizer.h"
#include "tokenizer/sentencepiece_tokenizer.h"
#include "tokenizer/tokenizer_test_util.h"

namespace peft {
namespace {

using test::TempDir;

std::unique_ptr<Model> load(const std::string& path) {
  auto m = load_model(path);
  EXPECT_TRUE(m.is_ok()) << m.status().message();
  return m.is_ok() ? std::move(m).value() : nullptr;
}

// Logits (T, V) of one sequence through the KV-cached runner.
std::vector<float> logits_of(const Model& m, const std::vector<int32_t>& ids) {
  const int64_t T = int64_t(ids.size());
  InferenceRunner run(m, 1, T, T);
  std::vector<float> out(size_t(T * m.config.n_vocab));
  run.forward(ids.data(), T, out.data(), true);
  return out;
}

std::vector<int32_t> some_ids(int64_t vocab, int64_t T) {
  std::vector<int32_t> ids;
  for (int64_t t = 0; t < T; ++t) ids.push_back(int32_t((t * 37 + 11) % vocab));
  return ids;
}

std::string export_to(const Model& m, const TempDir& dir, GgmlType type, const GgufVocab* vocab = nullptr) {
  const std::string path = dir / ("m." + std::string(ggml_type_name(uint32_t(type))) + ".gguf");
  GgufExportOptions opt;
  opt.type = type;
  Status s = export_gguf(m, vocab, opt, path);
  EXPECT_TRUE(s.is_ok()) << s.message();
  return path;
}

double max_abs(const std::vector<float>& v) {
  double m = 0;
  for (float x : v) m = std::max(m, double(std::fabs(x)));
  return m;
}

std::string model_dir(const std::string& name) { return test::fixture_dir(name) + "/model"; }

class GgufRoundTrip : public ::testing::TestWithParam<std::string> {};

TEST_P(GgufRoundTrip, LogitsMatchTheHuggingFaceFolder) {
  TempDir dir;
  auto hf = load(model_dir(GetParam()));
  ASSERT_TRUE(hf);
  const auto ids = some_ids(hf->config.n_vocab, 12);
  const auto want = logits_of(*hf, ids);
  // Bounds relative to the logits' scale for lossy storage. These random N(0, 0.2²) models
  // amplify weight noise; measured: F16 ≈ 1e-3, BF16 ≈ 1.7e-2, Q8_0 ≈ 5e-2 (llama).
  const std::pair<GgmlType, double> cases[] = {
      {GgmlType::F32, 1e-6}, {GgmlType::F16, 5e-3}, {GgmlType::BF16, 4e-2}, {GgmlType::Q8_0, 0.1}};
  for (auto [type, tol] : cases) {
    auto g = load(export_to(*hf, dir, type));
    ASSERT_TRUE(g);
    EXPECT_EQ(g->config.n_layer, hf->config.n_layer);
    EXPECT_EQ(g->config.n_head_kv, hf->config.n_head_kv);
    EXPECT_EQ(g->config.norm_eps, hf->config.norm_eps);
    EXPECT_EQ(g->config.block.tied_embeddings, hf->config.block.tied_embeddings);
    const auto got = logits_of(*g, ids);
    const double err = test::max_abs_diff(got.data(), want.data(), int64_t(want.size()));
    EXPECT_LE(err, tol * std::max(1.0, max_abs(want))) << GetParam() << " " << ggml_type_name(uint32_t(type));
  }
}

// qwen2: q/k/v biases, GQA 6/2, tied head, NeoX rope (not permuted by llama.cpp).
INSTANTIATE_TEST_SUITE_P(Fixtures, GgufRoundTrip,
                         ::testing::Values("llama", "gpt2", "bloom", "gpt_neox", "local:qwen2",
                                           "local:mistral_nowindow", "local:qwen3", "local:smollm3", "local:olmo2",
                                           "local:gemma", "local:gemma2", "local:gemma3_text", "local:phi3",
                                           "local:phi3_window", "local:llama_rope_llama3", "local:llama_rope_longrope",
                                           "local:llama_rope_linear"),
                         [](const auto& info) { return test::fixture_name(info.param); });

// RoPE factor tensors come back as configs transformers loads: Phi3Config holds exactly
// {type, short_factor, long_factor}; Llama 3's rope_freqs reads as longrope with equal lists.
TEST(GgufModel, RopeFactorsReadAsConfigsTransformersLoads) {
  TempDir dir;
  auto phi = load(test::fixture_dir("local:phi3") + "/model");
  ASSERT_TRUE(phi);
  auto g = load(export_to(*phi, dir, GgmlType::F32));
  ASSERT_TRUE(g);
  const Json& s = g->hf_config["rope_scaling"];
  EXPECT_EQ(s.size(), 3u) << s.dump();
  EXPECT_EQ(s["type"], "longrope");
  EXPECT_EQ(s["long_factor"], phi->hf_config["rope_scaling"]["long_factor"]);
  EXPECT_EQ(g->hf_config["original_max_position_embeddings"], 8);

  auto llama3 = load(test::fixture_dir("local:llama_rope_llama3") + "/model");
  ASSERT_TRUE(llama3);
  TempDir dir3;
  auto g3 = load(export_to(*llama3, dir3, GgmlType::F32));
  ASSERT_TRUE(g3);
  const Json& r = g3->hf_config["rope_scaling"];
  EXPECT_EQ(r["rope_type"], "longrope");
  EXPECT_EQ(r["short_factor"], r["long_factor"]);
  EXPECT_EQ(r["attention_factor"], 1.0);
}

TEST(GgufModel, LlamaQkRowsArePermutedInTheFileAndRestoredOnLoad) {
  TempDir dir;
  auto hf = load(test::fixture_path("llama/model"));
  ASSERT_TRUE(hf);
  const std::string path = export_to(*hf, dir, GgmlType::F32);
  auto file = GgufFile::open(path);
  ASSERT_TRUE(file.is_ok());
  auto st = SafetensorsFile::open(test::fixture_path("llama/model/model.safetensors"));
  ASSERT_TRUE(st.is_ok());
  const int64_t hd = hf->config.head_dim, C = hf->config.n_embd;
  // llama.cpp's converter: w.reshape(n_head, 2, hd/2, C).swapaxes(1, 2): GGUF row
  // h·hd + 2i + s holds HF row h·hd + s·hd/2 + i.
  for (const char* proj : {"q", "k"}) {
    const Tensor* src = st->find(std::string("model.layers.1.self_attn.") + proj + "_proj.weight");
    const GgufTensorInfo* g = file->find_tensor(std::string("blk.1.attn_") + proj + ".weight");
    ASSERT_TRUE(src && g);
    const float* a = src->f32();
    const auto* b = reinterpret_cast<const float*>(g->data);
    const int64_t heads = src->dim(0) / hd;
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t i = 0; i < hd / 2; ++i)
        for (int64_t s = 0; s < 2; ++s)
          ASSERT_EQ(std::memcmp(b + (h * hd + 2 * i + s) * C, a + (h * hd + s * hd / 2 + i) * C, size_t(C) * 4), 0)
              << proj << " head " << h;
  }
  auto g = load(path);
  ASSERT_TRUE(g);
  for (int64_t l = 0; l < hf->config.n_layer; ++l) {
    const LayerWeights &x = hf->layers[size_t(l)], &y = g->layers[size_t(l)];
    ASSERT_EQ(y.q.w.dims(), x.q.w.dims());
    EXPECT_EQ(std::memcmp(y.q.w.data, x.q.w.data, x.q.w.nbytes()), 0) << "layer " << l;
    EXPECT_EQ(std::memcmp(y.k.w.data, x.k.w.data, x.k.w.nbytes()), 0) << "layer " << l;
  }
}

TEST(GgufModel, Gpt2ProjectionsAreServedInConv1DLayout) {
  TempDir dir;
  auto hf = load(test::fixture_path("gpt2/model"));
  ASSERT_TRUE(hf);
  const std::string path = export_to(*hf, dir, GgmlType::F32);
  auto file = GgufFile::open(path);
  ASSERT_TRUE(file.is_ok());
  // llama.cpp stores [out, in]: ne = [in, out].
  const int64_t C = hf->config.n_embd;
  EXPECT_EQ(file->find_tensor("blk.0.attn_qkv.weight")->ne, (std::vector<int64_t>{C, 3 * C}));
  auto st = SafetensorsFile::open(test::fixture_path("gpt2/model/model.safetensors"));
  auto g = load(path);
  ASSERT_TRUE(g && st.is_ok());
  for (const char* name : {"transformer.h.0.attn.c_attn.weight", "transformer.h.1.mlp.c_proj.weight",
                           "transformer.h.1.attn.c_attn.bias", "transformer.wpe.weight"}) {
    const Tensor* want = st->find(name);
    const Tensor* got = g->source->find(name);
    ASSERT_TRUE(want && got) << name;
    ASSERT_EQ(got->dims(), want->dims()) << name;
    EXPECT_EQ(std::memcmp(got->data, want->data, want->nbytes()), 0) << name;
  }
}

// llama.cpp's GPT-2 converter writes the tied head twice; an identical output.weight is tied.
TEST(GgufModel, Gpt2DuplicatedHeadIsTied) {
  TempDir dir;
  auto hf = load(test::fixture_path("gpt2/model"));
  ASSERT_TRUE(hf);
  auto file = GgufFile::open(export_to(*hf, dir, GgmlType::F32));
  ASSERT_TRUE(file.is_ok());
  GgufWriter w;
  for (const auto& [k, v] : file->metadata()) w.set(k, v);
  for (const GgufTensorInfo& t : file->tensors())
    w.add_raw_tensor(t.name, t.type, t.ne, std::string(reinterpret_cast<const char*>(t.data), t.nbytes));
  const GgufTensorInfo* emb = file->find_tensor("token_embd.weight");
  w.add_raw_tensor("output.weight", emb->type, emb->ne,
                   std::string(reinterpret_cast<const char*>(emb->data), emb->nbytes));
  const std::string path = dir / "dup.gguf";
  ASSERT_TRUE(w.write(path).is_ok());
  auto g = load(path);
  ASSERT_TRUE(g);
  EXPECT_TRUE(g->config.block.tied_embeddings);
  const auto ids = some_ids(hf->config.n_vocab, 6);
  EXPECT_EQ(logits_of(*g, ids), logits_of(*hf, ids));
}

// `src` written to `path` with tensor `name` replaced by (type, ne, bytes), the rest as they are.
bool write_replacing(const GgufFile& src, const std::string& path, const std::string& name, uint32_t type,
                     const std::vector<int64_t>& ne, const std::string& bytes) {
  GgufWriter w;
  for (const auto& [k, v] : src.metadata()) w.set(k, v);
  for (const GgufTensorInfo& t : src.tensors()) {
    if (t.name == name)
      w.add_raw_tensor(t.name, type, ne, bytes);
    else
      w.add_raw_tensor(t.name, t.type, t.ne, std::string(reinterpret_cast<const char*>(t.data), t.nbytes));
  }
  return w.write(path).is_ok();
}

TEST(GgufModel, UnsupportedTensorTypeNamesTheTensor) {
  TempDir dir;
  auto hf = load(test::fixture_path("llama/model"));
  ASSERT_TRUE(hf);
  auto file = GgufFile::open(export_to(*hf, dir, GgmlType::F32));
  ASSERT_TRUE(file.is_ok());
  const GgufTensorInfo* q = file->find_tensor("blk.0.attn_q.weight");
  ASSERT_NE(q, nullptr);
  const std::string path = dir / "mxfp4.gguf";  // MXFP4: 32-element blocks of 17 bytes, not read by peft
  ASSERT_TRUE(write_replacing(*file, path, q->name, 39, q->ne, std::string(size_t(q->numel() / 32 * 17), '\0')));
  auto m = load_model(path);
  ASSERT_FALSE(m.is_ok());
  EXPECT_NE(m.status().message().find("unsupported ggml type MXFP4 (39) for tensor 'blk.0.attn_q.weight'"),
            std::string::npos)
      << m.status().message();
}

TEST(GgufModel, Stories260KExportKeepsLogitsAndTokenizer) {
  TempDir dir;
  const std::string folder = dir / "stories260K";
  auto r = test::convert_stories260k(folder);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string gguf = dir / "stories.gguf";
  r = test::run_peft("export --format gguf --model " + folder + " --out " + gguf);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto hf = load(folder);
  auto g = load(gguf);
  ASSERT_TRUE(hf && g);
  const auto ids = some_ids(hf->config.n_vocab, 24);
  EXPECT_EQ(logits_of(*g, ids), logits_of(*hf, ids));

  auto sp = SentencePieceTokenizer::load(folder + "/tokenizer.model");
  auto tok = load_gguf_tokenizer(gguf);
  ASSERT_TRUE(sp.is_ok() && tok.is_ok()) << (tok.is_ok() ? sp.status().message() : tok.status().message());
  EXPECT_EQ((*tok)->vocab_size(), (*sp)->vocab_size());
  EXPECT_EQ((*tok)->bos_id(), (*sp)->bos_id());
  EXPECT_EQ((*tok)->eos_id(), (*sp)->eos_id());
  // tok512's normalizer squeezes spaces: exported as tokenizer.ggml.remove_extra_whitespaces.
  for (const char* text : {"Once upon a time", "Lily and Ben went to the park.\nThey played!", "Hello, world! 123",
                           "  two  spaces ", " leading", "café — ok", "x", ""}) {
    const auto a = (*sp)->encode(text, true), b = (*tok)->encode(text, true);
    EXPECT_EQ(b, a) << text;
    EXPECT_EQ((*tok)->decode(b), (*sp)->decode(a)) << text;
  }

  r = test::run_peft("inspect " + gguf);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("architecture: llama"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("tokenizer: llama (512 tokens"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("tokenizer.ggml.tokens"), std::string::npos);
  EXPECT_NE(r.out.find("array[string; 512]"), std::string::npos);
  EXPECT_NE(r.out.find("blk.4.attn_q.weight"), std::string::npos);

  // Re-export the GGUF itself as Q8_0: the vocabulary comes along.
  const std::string q8 = dir / "stories.q8_0.gguf";
  r = test::run_peft("export --format gguf --type q8_0 --model " + gguf + " --out " + q8);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = test::run_peft("inspect " + q8);
  EXPECT_NE(r.out.find("Q8_0"), std::string::npos);
  EXPECT_NE(r.out.find("tokenizer: llama (512 tokens"), std::string::npos);
}

// A matrix with a zero dimension (found by the fuzzer: the row reorder divided by it) is an
// error naming the file, not a crash.
TEST(GgufModel, ZeroSizedMatrixIsRefused) {
  TempDir dir;
  auto hf = load(test::fixture_path("llama/model"));
  ASSERT_TRUE(hf);
  auto file = GgufFile::open(export_to(*hf, dir, GgmlType::Q8_0));
  ASSERT_TRUE(file.is_ok());
  const GgufTensorInfo* q = file->find_tensor("blk.0.attn_q.weight");
  ASSERT_NE(q, nullptr);
  const std::string path = dir / "zero.gguf";
  ASSERT_TRUE(write_replacing(*file, path, q->name, q->type, {q->ne[0], 0}, ""));
  auto m = load_model(path);
  ASSERT_FALSE(m.is_ok());
  EXPECT_NE(m.status().message().find(path), std::string::npos) << m.status().message();
}

TEST(GgufModel, ExportFlagErrors) {
  TempDir dir;
  auto r = test::run_peft("export --format gguf --type q6_k --model " + test::fixture_path("llama/model") + " --out " +
                          (dir / "x.gguf"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--type: expected f32, f16, bf16, q8_0, q4_0 or q4_k, found 'q6_k'"), std::string::npos)
      << r.err;
  r = test::run_peft("export --format onnx --model " + test::fixture_path("llama/model") + " --out " + (dir / "x"));
  EXPECT_NE(r.err.find("unknown --format 'onnx'"), std::string::npos) << r.err;
  r = test::run_peft("export --format gguf --model " + test::fixture_path("opt/model") + " --out " + (dir / "x.gguf"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("llama.cpp has no 'opt' architecture (GGUF export supports: bloom, gemma, gemma2, gemma3, gpt2, "
                       "gptneox, llama, olmo2, phi3, qwen2, qwen3, smollm3)"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir / "x.gguf"));
}

// A vocabulary-only GGUF file carrying `vocab`.
std::string vocab_file(const TempDir& dir, const GgufVocab& vocab) {
  GgufWriter w;
  w.set_string("general.architecture", "llama");
  write_gguf_vocab(w, vocab);
  const std::string path = dir / ("vocab-" + vocab.model + ".gguf");
  EXPECT_TRUE(w.write(path).is_ok());
  return path;
}

void expect_vectors(const Tokenizer& tok, const std::string& vocab) {
  const auto vectors = test::read_llama_cpp_vectors(test::vectors_base(vocab));
  ASSERT_GT(vectors.size(), 30u);
  for (const auto& v : vectors) EXPECT_EQ(tok.encode(v.text, false), v.ids) << vocab << ": '" << v.text << "'";
}

// llama.cpp's own tokenizer test vectors, through a GGUF file written by the exporter's code.
TEST(GgufTokenizer, Llama2SentencePieceVocabMatchesLlamaCppVectors) {
  TempDir dir;
  auto vocab = gguf_vocab_from_sentencepiece(test::llama2_model());
  ASSERT_TRUE(vocab.is_ok()) << vocab.status().message();
  EXPECT_EQ(vocab->tokens.size(), 32000u);
  EXPECT_EQ(vocab->remove_extra_whitespaces, false);
  auto tok = load_gguf_tokenizer(vocab_file(dir, *vocab));
  ASSERT_TRUE(tok.is_ok()) << tok.status().message();
  expect_vectors(**tok, "llama-spm");
}

TEST(GgufTokenizer, Gpt2ByteLevelVocabMatchesLlamaCppVectors) {
  TempDir dir;
  auto encoder = nlohmann::json::parse(test::read_file(test::gpt2_dir() + "/encoder.json"));
  GgufVocab v;
  v.model = "gpt2";
  v.pre = "gpt-2";
  v.tokens.resize(encoder.size());
  for (const auto& [token, id] : encoder.items()) v.tokens[id.get<size_t>()] = token;
  std::istringstream bpe(test::read_file(test::gpt2_dir() + "/vocab.bpe"));
  for (std::string line; std::getline(bpe, line);)
    if (!line.empty() && !line.starts_with("#version")) v.merges.push_back(line);
  v.bos_id = v.eos_id = 50256;
  auto tok = load_gguf_tokenizer(vocab_file(dir, v));
  ASSERT_TRUE(tok.is_ok()) << tok.status().message();
  EXPECT_EQ((*tok)->vocab_size(), 50257);
  expect_vectors(**tok, "gpt-2");
}

TEST(GgufTokenizer, MissingVocabularyIsAnError) {
  TempDir dir;
  auto hf = load(test::fixture_path("llama/model"));
  ASSERT_TRUE(hf);
  auto tok = load_gguf_tokenizer(export_to(*hf, dir, GgmlType::F32));
  ASSERT_FALSE(tok.is_ok());
  EXPECT_NE(tok.status().message().find("has no tokenizer (tokenizer.ggml.model is missing)"), std::string::npos);
}

}  // namespace
}  // namespace peft
