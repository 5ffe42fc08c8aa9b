// Tests for the safetensors reader/writer and HF weight folders (plain and sharded).
#include "io/safetensors.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>

#include "io/json_file.h"

namespace peft {
namespace {

namespace fs = std::filesystem;

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), std::streamsize(bytes.size()));
}

// "<u64 LE length><header><data_size zero bytes>" for hand-made (possibly bad) files.
std::string raw_file(const std::string& header, size_t data_size) {
  std::string out(8, '\0');
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[size_t(i)] = char((n >> (8 * i)) & 0xff);
  return out + header + std::string(data_size, '\0');
}

class SafetensorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = (fs::temp_directory_path() / fmt::format("peft_st_{}_{}", ::getpid(), info->name())).string();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  std::string dir_;
};

// Each tensor owns its bytes; a deterministic pattern makes byte comparisons meaningful.
struct Sample {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
};

TEST_F(SafetensorsTest, RoundTripAllDtypesScalarsAndMetadata) {
  const std::vector<Sample> samples = {
      {"f32.matrix", DType::F32, {2, 3}},
      {"f16.vector", DType::F16, {4}},
      {"bf16.cube", DType::BF16, {3, 1, 2}},
      {"i32.vector", DType::I32, {5}},
      {"i64.matrix", DType::I64, {2, 2}},
      {"f32.scalar", DType::F32, {}},
      {"i64.scalar", DType::I64, {}},
      {"bf16.empty", DType::BF16, {0, 3}},
      {"f32.six_dims", DType::F32, {1, 2, 1, 2, 1, 2}},
  };
  std::vector<OwnedTensor> owned;
  std::vector<NamedTensor> named;
  for (size_t s = 0; s < samples.size(); ++s) {
    owned.emplace_back(samples[s].dtype, samples[s].shape);
    auto* bytes = static_cast<unsigned char*>(owned.back().view().data);
    for (size_t i = 0; i < owned.back().view().nbytes(); ++i) bytes[i] = (unsigned char)(i * 7 + s * 31 + 1);
    named.push_back({samples[s].name, owned.back().view()});
  }
  const std::map<std::string, std::string> meta = {{"format", "pt"}, {"note", "round trip"}};
  const std::string file = path("rt.safetensors");
  ASSERT_TRUE(write_safetensors(file, named, meta).is_ok());

  // Layout: header padded to a multiple of 8, metadata first, data contiguous from 0.
  const std::string raw = read_bytes(file);
  uint64_t n = 0;
  std::memcpy(&n, raw.data(), 8);
  EXPECT_EQ(n % 8, 0u);
  EXPECT_EQ(raw.substr(8, 16), "{\"__metadata__\":");
  size_t total = 0;
  for (const auto& o : owned) total += o.view().nbytes();
  EXPECT_EQ(raw.size(), 8 + n + total);
  EXPECT_FALSE(fs::exists(file + ".tmp." + std::to_string(::getpid())));

  auto st = SafetensorsFile::open(file);
  ASSERT_TRUE(st.is_ok()) << st.status().message();
  EXPECT_EQ(st->metadata(), meta);
  ASSERT_EQ(st->names().size(), samples.size());
  for (size_t s = 0; s < samples.size(); ++s) {
    SCOPED_TRACE(samples[s].name);
    EXPECT_EQ(st->names()[s], samples[s].name);  // offsets follow write order
    const Tensor* t = st->find(samples[s].name);
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->dtype, samples[s].dtype);
    EXPECT_EQ(t->dims(), samples[s].shape);
    EXPECT_EQ(t->numel(), owned[s].numel());
    ASSERT_EQ(t->nbytes(), owned[s].view().nbytes());
    EXPECT_EQ(std::memcmp(t->data, owned[s].view().data, t->nbytes()), 0);
  }
  EXPECT_EQ(st->find("f32.scalar")->numel(), 1);
  EXPECT_FALSE(st->contains("missing"));
}

TEST_F(SafetensorsTest, NoMetadataKeyWhenEmpty) {
  OwnedTensor t(DType::F32, {2});
  const std::string file = path("nometa.safetensors");
  ASSERT_TRUE(write_safetensors(file, {{"w", t.view()}}).is_ok());
  EXPECT_EQ(read_bytes(file).find("__metadata__"), std::string::npos);
  auto st = SafetensorsFile::open(file);
  ASSERT_TRUE(st.is_ok()) << st.status().message();
  EXPECT_TRUE(st->metadata().empty());
}

TEST_F(SafetensorsTest, WriterReportsInvalidUtf8) {
  OwnedTensor t(DType::F32, {1});
  const std::string file = path("utf8.safetensors");
  Status st = write_safetensors(file, {{"w", t.view()}}, {{"note", "\xff\xfe"}});
  ASSERT_FALSE(st.is_ok());
  EXPECT_EQ(st.message().rfind(file + ": cannot write safetensors header: ", 0), 0u) << st.message();
  EXPECT_FALSE(fs::exists(file));
}

TEST_F(SafetensorsTest, ViewsOutliveTheFirstCopy) {
  OwnedTensor t(DType::F32, {3});
  t.f32()[2] = 42.5f;
  const std::string file = path("copy.safetensors");
  ASSERT_TRUE(write_safetensors(file, {{"w", t.view()}}).is_ok());
  std::optional<SafetensorsFile> copy;
  {
    auto st = SafetensorsFile::open(file);
    ASSERT_TRUE(st.is_ok());
    copy = st.value();
  }
  EXPECT_EQ(copy->find("w")->f32()[2], 42.5f);  // the mapping is shared, not owned by one copy
}

// Not a fixture test: the death-test child aborts before TearDown could clean a folder.
TEST(SafetensorsWriter, RejectsStridedViews) {
  OwnedTensor t(DType::F32, {2, 3});
  Tensor transposed = t.view();
  std::swap(transposed.shape[0], transposed.shape[1]);
  std::swap(transposed.stride[0], transposed.stride[1]);
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH((void)write_safetensors("/nonexistent-peft-dir/bad.safetensors", {{"t", transposed}}), "strided");
}

TEST(SafetensorsFixture, ReadsIoFixture) {
  const std::string file = PEFT_SHARED_DIR "/fixtures/llama/io.safetensors";
  auto st = SafetensorsFile::open(file);
  ASSERT_TRUE(st.is_ok()) << st.status().message();
  const Tensor* logits = st->find("logits");
  ASSERT_NE(logits, nullptr);
  EXPECT_EQ(logits->dtype, DType::F32);
  EXPECT_EQ(logits->ndim, 3);
  const Tensor* ids = st->find("input_ids");
  ASSERT_NE(ids, nullptr);
  EXPECT_EQ(ids->dtype, DType::I64);
  EXPECT_EQ(ids->ndim, 2);
  EXPECT_FALSE(st->metadata().empty());
  EXPECT_EQ(st->metadata().at("arch"), "llama");
  // names() is in file order: data pointers strictly increase.
  for (size_t i = 1; i < st->names().size(); ++i)
    EXPECT_LT(st->find(st->names()[i - 1])->data, st->find(st->names()[i])->data);
}

TEST(SafetensorsFixture, ReadsModelFolder) {
  const std::string dir = PEFT_SHARED_DIR "/fixtures/llama/model";
  auto w = WeightFiles::open_folder(dir);
  ASSERT_TRUE(w.is_ok()) << w.status().message();
  ASSERT_EQ(w->files().size(), 1u);
  const Tensor* emb = w->find("model.embed_tokens.weight");
  ASSERT_NE(emb, nullptr);
  EXPECT_EQ(emb->dtype, DType::F32);
  EXPECT_EQ(emb->ndim, 2);
  EXPECT_EQ(w->file_of("model.embed_tokens.weight"), dir + "/model.safetensors");
  EXPECT_EQ(w->file_of("nope"), "");
  EXPECT_EQ(w->find("nope"), nullptr);
  auto names = w->names();
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  EXPECT_EQ(names.size(), w->files()[0].names().size());
}

// Bad files: each message starts with the path and contains a phrase naming the problem.
struct BadCase {
  const char* label;
  std::string bytes;
  const char* phrase;
};

TEST_F(SafetensorsTest, RejectsBadFilesWithClearMessages) {
  auto tensor = [](const std::string& body) { return std::string("{\"w\":") + body + "}"; };
  std::string too_long(8, '\0');
  too_long[0] = char(0xe8);  // 1000
  too_long[1] = 0x03;
  too_long += "{}";
  const std::vector<BadCase> cases = {
      {"empty", "", "too short"},
      {"five_bytes", std::string("\x05\0\0\0\0", 5), "too short"},
      {"header_longer_than_file", too_long, "header length 1000 exceeds"},
      {"not_json", raw_file("{nope", 0), "not valid JSON"},
      {"not_object", raw_file("[1, 2]", 0), "must be a JSON object, found array"},
      {"duplicate",
       raw_file(
           R"({"w":{"dtype":"F32","shape":[],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[],"data_offsets":[0,4]}})",
           4),
       "'w' twice"},
      {"entry_not_object", raw_file(tensor("3"), 0), "tensor 'w': expected an object"},
      {"unknown_dtype", raw_file(tensor(R"({"dtype":"F64","shape":[2],"data_offsets":[0,16]})"), 16),
       "tensor 'w': unsupported dtype F64"},
      {"missing_dtype", raw_file(tensor(R"({"shape":[2],"data_offsets":[0,8]})"), 8),
       "tensor 'w': field 'dtype' missing"},
      {"missing_shape", raw_file(tensor(R"({"dtype":"F32","data_offsets":[0,8]})"), 8), "field 'shape' missing"},
      {"missing_offsets", raw_file(tensor(R"({"dtype":"F32","shape":[2]})"), 8), "field 'data_offsets' missing"},
      {"negative_dim", raw_file(tensor(R"({"dtype":"F32","shape":[-2],"data_offsets":[0,8]})"), 8),
       "shape[0] must be a non-negative integer, found -2"},
      {"float_dim", raw_file(tensor(R"({"dtype":"F32","shape":[2,1.5],"data_offsets":[0,8]})"), 8),
       "shape[1] must be a non-negative integer, found 1.5"},
      {"seven_dims", raw_file(tensor(R"({"dtype":"F32","shape":[1,1,1,1,1,1,1],"data_offsets":[0,4]})"), 4),
       "at most 6"},
      {"huge_shape", raw_file(tensor(R"({"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]})"), 4),
       "too large"},
      {"offsets_past_end", raw_file(tensor(R"({"dtype":"F32","shape":[4],"data_offsets":[0,16]})"), 8),
       "data_offsets [0, 16] run past the end of the data section (8 bytes"},
      {"offsets_reversed", raw_file(tensor(R"({"dtype":"F32","shape":[0],"data_offsets":[8,0]})"), 8), "begin <= end"},
      {"offsets_not_pair", raw_file(tensor(R"({"dtype":"F32","shape":[0],"data_offsets":[0]})"), 8),
       "must be [begin, end]"},
      {"size_mismatch", raw_file(tensor(R"({"dtype":"F32","shape":[10,4],"data_offsets":[0,100]})"), 100),
       "tensor 'w': data_offsets [0, 100] but shape [10, 4] F32 needs 160 bytes"},
      {"overlap",
       raw_file(
           R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}})",
           24),
       "tensors 'a' [0, 16] and 'b' [8, 24] overlap"},
      {"metadata_not_string", raw_file(R"({"__metadata__":{"n":3}})", 0), "__metadata__ field 'n' must be a string"},
  };
  for (const BadCase& c : cases) {
    SCOPED_TRACE(c.label);
    const std::string file = path(std::string(c.label) + ".safetensors");
    write_bytes(file, c.bytes);
    auto st = SafetensorsFile::open(file);
    ASSERT_FALSE(st.is_ok());
    const std::string& msg = st.status().message();
    EXPECT_EQ(msg.rfind(file + ": ", 0), 0u) << msg;
    EXPECT_NE(msg.find(c.phrase), std::string::npos) << msg;
  }
}

TEST_F(SafetensorsTest, RejectsTruncatedDataSection) {
  OwnedTensor a(DType::F32, {4}), b(DType::I64, {3});
  const std::string file = path("full.safetensors");
  ASSERT_TRUE(write_safetensors(file, {{"a", a.view()}, {"b", b.view()}}).is_ok());
  std::string bytes = read_bytes(file);
  const std::string cut = path("cut.safetensors");
  write_bytes(cut, bytes.substr(0, bytes.size() - 5));
  auto st = SafetensorsFile::open(cut);
  ASSERT_FALSE(st.is_ok());
  EXPECT_EQ(st.status().message().rfind(cut + ": tensor 'b': ", 0), 0u) << st.status().message();
  EXPECT_NE(st.status().message().find("file truncated?"), std::string::npos);
}

TEST_F(SafetensorsTest, MissingFileNamesPath) {
  auto st = SafetensorsFile::open(path("absent.safetensors"));
  ASSERT_FALSE(st.is_ok());
  EXPECT_EQ(st.status().message(), path("absent.safetensors") + ": cannot open (No such file or directory)");
}

// Two shards + an index, as transformers writes them.
class SafetensorsShardTest : public SafetensorsTest {
 protected:
  void write_shards(const Json& weight_map) {
    a_.f32()[0] = 1.0f;
    c_.view().i32()[1] = 7;
    ASSERT_TRUE(
        write_safetensors(path("model-00001-of-00002.safetensors"), {{"a", a_.view()}, {"b", b_.view()}}).is_ok());
    ASSERT_TRUE(write_safetensors(path("model-00002-of-00002.safetensors"), {{"c", c_.view()}}).is_ok());
    Json index = {{"metadata", {{"total_size", 44}}}, {"weight_map", weight_map}};
    ASSERT_TRUE(write_json_file(path("model.safetensors.index.json"), index).is_ok());
  }
  OwnedTensor a_{DType::F32, {2}}, b_{DType::BF16, {2, 2}}, c_{DType::I32, {3}};
};

TEST_F(SafetensorsShardTest, OpensShardedFolder) {
  write_shards({{"a", "model-00001-of-00002.safetensors"},
                {"b", "model-00001-of-00002.safetensors"},
                {"c", "model-00002-of-00002.safetensors"}});
  auto w = WeightFiles::open_folder(dir_);
  ASSERT_TRUE(w.is_ok()) << w.status().message();
  EXPECT_EQ(w->files().size(), 2u);
  EXPECT_EQ(w->names(), (std::vector<std::string>{"a", "b", "c"}));
  ASSERT_NE(w->find("c"), nullptr);
  EXPECT_EQ(w->find("c")->i32()[1], 7);
  EXPECT_EQ(w->find("a")->f32()[0], 1.0f);
  EXPECT_EQ(w->find("b")->dtype, DType::BF16);
  EXPECT_EQ(w->file_of("a"), path("model-00001-of-00002.safetensors"));
  EXPECT_EQ(w->file_of("c"), path("model-00002-of-00002.safetensors"));
}

TEST_F(SafetensorsShardTest, MissingShard) {
  write_shards({{"a", "model-00001-of-00002.safetensors"}, {"z", "model-00003-of-00002.safetensors"}});
  auto w = WeightFiles::open_folder(dir_);
  ASSERT_FALSE(w.is_ok());
  const std::string& msg = w.status().message();
  EXPECT_EQ(msg.rfind(path("model.safetensors.index.json") + ": ", 0), 0u) << msg;
  EXPECT_NE(msg.find("shard 'model-00003-of-00002.safetensors' (listed for tensor 'z') does not exist"),
            std::string::npos)
      << msg;
}

TEST_F(SafetensorsShardTest, TensorNotInItsShard) {
  write_shards({{"a", "model-00001-of-00002.safetensors"}, {"c", "model-00001-of-00002.safetensors"}});
  auto w = WeightFiles::open_folder(dir_);
  ASSERT_FALSE(w.is_ok());
  EXPECT_NE(w.status().message().find("tensor 'c' is listed in shard 'model-00001-of-00002.safetensors' but"),
            std::string::npos)
      << w.status().message();
}

TEST_F(SafetensorsShardTest, ShardOutsideFolderRejected) {
  write_shards({{"a", "../model-00001-of-00002.safetensors"}});
  auto w = WeightFiles::open_folder(dir_);
  ASSERT_FALSE(w.is_ok());
  EXPECT_NE(w.status().message().find("must be a file name in the same folder"), std::string::npos);
}

TEST_F(SafetensorsShardTest, BadIndexJson) {
  write_bytes(path("model.safetensors.index.json"), R"({"weight_map": ["a"]})");
  auto w = WeightFiles::open_folder(dir_);
  ASSERT_FALSE(w.is_ok());
  EXPECT_NE(w.status().message().find("field 'weight_map' must be an object"), std::string::npos);
}

TEST_F(SafetensorsTest, FolderWithoutWeights) {
  auto w = WeightFiles::open_folder(dir_);
  ASSERT_FALSE(w.is_ok());
  EXPECT_EQ(w.status().message(), dir_ + ": no model.safetensors or model.safetensors.index.json found");
}

}  // namespace
}  // namespace peft
