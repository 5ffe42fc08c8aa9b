// peft convert's library half: llama2.c checkpoint + SentencePiece tokenizer -> HF LLaMA folder.
#include "io/llama2c_convert.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "io/json_file.h"
#include "io/safetensors.h"
#include "tokenizer/sentencepiece_tokenizer.h"

namespace peft {
namespace {

namespace fs = std::filesystem;
const std::string kShared = PEFT_SHARED_DIR;
const std::string kStories = kShared + "/data/models/stories260K/stories260K.bin";
const std::string kTok512 = kShared + "/data/models/stories260K/tok512.model";
const std::string kLlama2Tok = kShared + "/data/tokenizers/llama2/tokenizer.model";

fs::path temp_dir(const std::string& tag) {
  fs::path dir = fs::temp_directory_path() / ("peft_convert_" + tag + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// What cmd_convert does: summarize the SentencePiece model for the HF files.
SentencePieceSummary summarize(const std::string& path) {
  auto tok = SentencePieceTokenizer::load(path);
  EXPECT_TRUE(tok.is_ok()) << tok.status().message();
  SentencePieceSummary s;
  if (!tok.is_ok()) return s;
  s.model_file = path;
  s.vocab_size = (*tok)->vocab_size();
  s.bos_id = (*tok)->bos_id();
  s.eos_id = (*tok)->eos_id();
  s.bos_token = (*tok)->piece(s.bos_id);
  s.eos_token = (*tok)->piece(s.eos_id);
  s.unk_token = (*tok)->piece((*tok)->unk_id());
  s.pad_token = (*tok)->piece((*tok)->pad_id());
  return s;
}

Json read_json(const fs::path& path) {
  auto j = read_json_file(path.string());
  EXPECT_TRUE(j.is_ok()) << j.status().message();
  return j.is_ok() ? std::move(j).value() : Json();
}

// Every tensor of the converted folder equals what read_llama2c produced, in HF names.
void expect_same_tensors(const std::string& checkpoint, const fs::path& out) {
  auto ck = read_llama2c(checkpoint);
  ASSERT_TRUE(ck.is_ok()) << ck.status().message();
  auto st = SafetensorsFile::open((out / "model.safetensors").string());
  ASSERT_TRUE(st.is_ok()) << st.status().message();
  EXPECT_EQ(st->metadata(), (std::map<std::string, std::string>{{"format", "pt"}}));
  EXPECT_EQ(st->names().size(), ck->tensors.size());
  for (const auto& [name, want] : ck->tensors) {
    const Tensor* got = st->find(name);
    ASSERT_TRUE(got) << name;
    EXPECT_EQ(got->dtype, DType::F32) << name;
    EXPECT_EQ(got->dims(), want.view().dims()) << name;
    ASSERT_EQ(got->numel(), want.numel()) << name;
    EXPECT_EQ(std::memcmp(got->data, want.view().data, want.view().nbytes()), 0) << name;
  }
}

TEST(Llama2cConvert, Stories260KRoundTrip) {
  fs::path dir = temp_dir("stories");
  fs::path out = dir / "stories260K-hf";
  Status st = convert_llama2c_to_hf(kStories, summarize(kTok512), out.string());
  ASSERT_TRUE(st.is_ok()) << st.message();

  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(out)) files.push_back(e.path().filename().string());
  std::sort(files.begin(), files.end());
  EXPECT_EQ(files, (std::vector<std::string>{"config.json", "generation_config.json", "model.safetensors",
                                             "special_tokens_map.json", "tokenizer.model", "tokenizer_config.json"}));
  // Only the final folder is left next to it: no temporary siblings.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);

  expect_same_tensors(kStories, out);
  auto sf = SafetensorsFile::open((out / "model.safetensors").string());
  ASSERT_TRUE(sf.is_ok());
  EXPECT_EQ(sf->names().size(), 1u + 5 * 9 + 1);
  EXPECT_FALSE(sf->contains("lm_head.weight"));
  EXPECT_EQ(sf->find("model.layers.2.self_attn.k_proj.weight")->dims(), (std::vector<int64_t>{32, 64}));

  Json config = read_json(out / "config.json");
  EXPECT_EQ(config["architectures"], Json::array({"LlamaForCausalLM"}));
  EXPECT_EQ(config["model_type"], "llama");
  EXPECT_EQ(config["hidden_size"], 64);
  EXPECT_EQ(config["intermediate_size"], 172);
  EXPECT_EQ(config["num_hidden_layers"], 5);
  EXPECT_EQ(config["num_attention_heads"], 8);
  EXPECT_EQ(config["num_key_value_heads"], 4);
  EXPECT_EQ(config["vocab_size"], 512);
  EXPECT_EQ(config["max_position_embeddings"], 512);
  EXPECT_DOUBLE_EQ(config["rms_norm_eps"].get<double>(), 1e-5);
  EXPECT_EQ(config["hidden_act"], "silu");
  EXPECT_DOUBLE_EQ(config["rope_theta"].get<double>(), 10000.0);
  EXPECT_TRUE(config["rope_scaling"].is_null());
  EXPECT_EQ(config["tie_word_embeddings"], true);
  EXPECT_EQ(config["bos_token_id"], 1);
  EXPECT_EQ(config["eos_token_id"], 2);
  EXPECT_EQ(config["torch_dtype"], "float32");
  EXPECT_EQ(config["transformers_version"], "4.31.0");

  Json gen = read_json(out / "generation_config.json");
  EXPECT_EQ(gen, (Json{{"bos_token_id", 1}, {"eos_token_id", 2}, {"transformers_version", "4.31.0"}}));

  Json tc = read_json(out / "tokenizer_config.json");
  EXPECT_EQ(tc["tokenizer_class"], "LlamaTokenizer");
  EXPECT_EQ(tc["add_bos_token"], true);
  EXPECT_EQ(tc["add_eos_token"], false);
  EXPECT_EQ(tc["bos_token"], "<s>");
  EXPECT_EQ(tc["eos_token"], "</s>");
  EXPECT_EQ(tc["unk_token"], "<unk>");
  EXPECT_EQ(tc["model_max_length"], 512);
  EXPECT_EQ(tc["clean_up_tokenization_spaces"], false);
  EXPECT_EQ(tc["legacy"], true);

  EXPECT_EQ(read_all(out / "tokenizer.model"), read_all(kTok512));
  fs::remove_all(dir);
}

TEST(Llama2cConvert, SeparateClassifierWritesLmHead) {
  // A v0 file with vocab 512 (to match tok512) and a negative vocab_size header, i.e.
  // a separate wcls; values are just a ramp, the reader tests check their placement.
  fs::path dir = temp_dir("cls");
  fs::path bin = dir / "tiny.bin";
  const int32_t dim = 8, hidden = 12, layers = 2, heads = 2, kv_heads = 1, vocab = 512, seq = 4;
  const int64_t kv = dim / heads * kv_heads;
  const int64_t n = 2 * int64_t(vocab) * dim + dim + int64_t(seq) * (dim / heads) +
                    layers * (2 * dim + 2 * dim * dim + 2 * kv * dim + 3 * hidden * dim);
  {
    std::ofstream f(bin, std::ios::binary);
    for (int32_t v : {dim, hidden, layers, heads, kv_heads, -vocab, seq}) f.write(reinterpret_cast<const char*>(&v), 4);
    for (int64_t i = 0; i < n; ++i) {
      float x = float(i % 4099) * 0.25f;
      f.write(reinterpret_cast<const char*>(&x), 4);
    }
  }
  fs::path out = dir / "out";
  Status st = convert_llama2c_to_hf(bin.string(), summarize(kTok512), out.string());
  ASSERT_TRUE(st.is_ok()) << st.message();
  expect_same_tensors(bin.string(), out);
  auto sf = SafetensorsFile::open((out / "model.safetensors").string());
  ASSERT_TRUE(sf.is_ok());
  ASSERT_TRUE(sf->contains("lm_head.weight"));
  EXPECT_EQ(sf->find("lm_head.weight")->dims(), (std::vector<int64_t>{512, 8}));
  Json config = read_json(out / "config.json");
  EXPECT_EQ(config["tie_word_embeddings"], false);
  EXPECT_EQ(config["max_position_embeddings"], 4);

  // Converting again over the existing folder is refused, and replaces it with overwrite.
  st = convert_llama2c_to_hf(kStories, summarize(kTok512), out.string());
  ASSERT_FALSE(st.is_ok());
  EXPECT_NE(st.message().find("is not empty"), std::string::npos) << st.message();
  EXPECT_EQ(read_json(out / "config.json")["tie_word_embeddings"], false);
  st = convert_llama2c_to_hf(kStories, summarize(kTok512), out.string(), /*overwrite=*/true);
  ASSERT_TRUE(st.is_ok()) << st.message();
  EXPECT_EQ(read_json(out / "config.json")["tie_word_embeddings"], true);
  fs::remove_all(dir);
}

TEST(Llama2cConvert, VocabMismatchLeavesNoOutput) {
  fs::path dir = temp_dir("mismatch");
  fs::path out = dir / "out";
  Status st = convert_llama2c_to_hf(kStories, summarize(kLlama2Tok), out.string());
  ASSERT_FALSE(st.is_ok());
  EXPECT_EQ(st.message(),
            "tokenizer " + kLlama2Tok + " has 32000 pieces but checkpoint " + kStories + " has vocab_size 512");
  EXPECT_FALSE(fs::exists(out));
  EXPECT_TRUE(fs::is_empty(dir));
  fs::remove_all(dir);
}

TEST(Llama2cConvert, BadCheckpointLeavesNoOutput) {
  fs::path dir = temp_dir("bad");
  fs::path bin = dir / "cut.bin";
  fs::copy_file(kStories, bin);
  fs::resize_file(bin, 1000);
  fs::path out = dir / "out";
  Status st = convert_llama2c_to_hf(bin.string(), summarize(kTok512), out.string());
  ASSERT_FALSE(st.is_ok());
  EXPECT_NE(st.message().find("truncated llama2.c checkpoint"), std::string::npos) << st.message();
  EXPECT_FALSE(fs::exists(out));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);  // just cut.bin
  fs::remove_all(dir);
}

}  // namespace
}  // namespace peft
