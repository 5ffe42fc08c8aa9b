// GGUF reader and writer: v2/v3, every metadata type, F16/BF16/Q8_0 values, alignment, bad input.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <fstream>

#include "cli/cli_runner.h"
#include "io/gguf.h"
#include "io/gguf_writer.h"

namespace peft {
namespace {

using test::TempDir;

// Raw little-endian byte building for hand-made files.
struct Bytes {
  std::string s;
  template <typename T>
  Bytes& put(T v) {
    char b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    s.append(b, sizeof(T));
    return *this;
  }
  Bytes& str(const std::string& x) {
    put<uint64_t>(x.size());
    s += x;
    return *this;
  }
  Bytes& pad_to(size_t align) {
    s.resize((s.size() + align - 1) / align * align, '\0');
    return *this;
  }
};

std::string write_file(const TempDir& dir, const std::string& name, const std::string& bytes) {
  const std::string path = dir / name;
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

Result<GgufFile> open_bytes(const TempDir& dir, const std::string& bytes) {
  return GgufFile::open(write_file(dir, "t.gguf", bytes));
}

std::string error_of(const TempDir& dir, const std::string& bytes) {
  auto f = open_bytes(dir, bytes);
  return f.is_ok() ? std::string("(opened fine)") : f.status().message();
}

// A hand-made v2 file: one u32 key, an F16 [2, 2] tensor and a Q8_0 [32] tensor.
std::string hand_made_v2() {
  Bytes b;
  b.s = "GGUF";
  b.put<uint32_t>(2).put<uint64_t>(2).put<uint64_t>(1);
  b.str("answer").put<uint32_t>(4).put<uint32_t>(42);
  b.str("f16").put<uint32_t>(2).put<uint64_t>(2).put<uint64_t>(2).put<uint32_t>(1).put<uint64_t>(0);
  b.str("q8").put<uint32_t>(1).put<uint64_t>(32).put<uint32_t>(8).put<uint64_t>(32);
  b.pad_to(32);
  // 1.0, -2.0, 0.5, 65504 (largest half)
  b.put<uint16_t>(0x3C00).put<uint16_t>(0xC000).put<uint16_t>(0x3800).put<uint16_t>(0x7BFF);
  b.pad_to(32);
  b.put<uint16_t>(0x3800);  // d = 0.5
  for (int j = 0; j < 32; ++j) b.put<int8_t>(int8_t(j % 2 ? -j * 4 : j * 4));
  return b.s;
}

TEST(Gguf, HandMadeV2FileDecodesF16AndQ8_0) {
  TempDir dir;
  auto f = open_bytes(dir, hand_made_v2());
  ASSERT_TRUE(f.is_ok()) << f.status().message();
  EXPECT_EQ(f->version(), 2u);
  EXPECT_EQ(*f->get_int("answer"), 42);
  const GgufTensorInfo* h = f->find_tensor("f16");
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->shape(), (std::vector<int64_t>{2, 2}));
  auto hf = f->to_f32(*h);
  ASSERT_TRUE(hf.is_ok());
  const float want_h[] = {1.f, -2.f, 0.5f, 65504.f};
  for (int i = 0; i < 4; ++i) EXPECT_EQ(hf->f32()[i], want_h[i]);
  const GgufTensorInfo* q = f->find_tensor("q8");
  auto qf = f->to_f32(*q);
  ASSERT_TRUE(qf.is_ok());
  for (int j = 0; j < 32; ++j) EXPECT_EQ(qf->f32()[j], 0.5f * float(j % 2 ? -j * 4 : j * 4)) << j;
  EXPECT_EQ(f->data_offset() % 32, 0u);
}

TEST(Gguf, WriterRoundTripsEveryMetadataTypeInV2AndV3) {
  TempDir dir;
  for (uint32_t version : {2u, 3u}) {
    GgufWriter w;
    w.version = version;
    w.set("u8", GgufValue::of_uint(GgufType::U8, 200));
    w.set("i8", GgufValue::of_int(GgufType::I8, -100));
    w.set("u16", GgufValue::of_uint(GgufType::U16, 60000));
    w.set("i16", GgufValue::of_int(GgufType::I16, -30000));
    w.set_u32("u32", 4000000000u);
    w.set_i32("i32", -2000000000);
    w.set_f32("f32", 0.25f);
    w.set_bool("bool", true);
    w.set_string("string", "héllo");
    w.set("u64", GgufValue::of_uint(GgufType::U64, 1ull << 40));
    w.set("i64", GgufValue::of_int(GgufType::I64, -(1ll << 40)));
    w.set("f64", GgufValue::of_float(GgufType::F64, 1e-300));
    w.set_strings("strings", {"a", "", "c"});
    w.set("nested", GgufValue::of_array(GgufType::Array,
                                        {GgufValue::of_array(GgufType::I32, {GgufValue::of_int(GgufType::I32, 7)}),
                                         GgufValue::of_array(GgufType::String, {})}));
    auto bytes = w.serialize();
    ASSERT_TRUE(bytes.is_ok());
    auto f = open_bytes(dir, *bytes);
    ASSERT_TRUE(f.is_ok()) << f.status().message();
    EXPECT_EQ(f->version(), version);
    EXPECT_EQ(f->find("u8")->u, 200u);
    EXPECT_EQ(f->find("i8")->i, -100);
    EXPECT_EQ(f->find("u16")->u, 60000u);
    EXPECT_EQ(f->find("i16")->i, -30000);
    EXPECT_EQ(*f->get_int("u32"), 4000000000ll);
    EXPECT_EQ(*f->get_int("i32"), -2000000000ll);
    EXPECT_EQ(*f->get_float("f32"), 0.25);
    EXPECT_EQ(*f->get_bool_or("bool", false), true);
    EXPECT_EQ(*f->get_string("string"), "héllo");
    EXPECT_EQ(*f->get_int("u64"), 1ll << 40);
    EXPECT_EQ(*f->get_int("i64"), -(1ll << 40));
    EXPECT_EQ(*f->get_float("f64"), 1e-300);
    EXPECT_EQ(f->find("strings")->summary(), "array[string; 3]");
    EXPECT_EQ(f->find("strings")->arr[2].s, "c");
    const GgufValue* nested = f->find("nested");
    ASSERT_EQ(nested->arr.size(), 2u);
    EXPECT_EQ(nested->arr[0].elem, GgufType::I32);
    EXPECT_EQ(nested->arr[0].arr[0].i, 7);
    EXPECT_TRUE(nested->arr[1].arr.empty());
    // Metadata keeps file order.
    EXPECT_EQ(f->metadata().front().first, "u8");
    EXPECT_EQ(f->metadata().back().first, "nested");
    EXPECT_FALSE(f->get_string("u32").is_ok());
    EXPECT_NE(f->get_int("missing").status().message().find("'missing' is missing"), std::string::npos);
  }
}

TEST(Gguf, WriterEncodesF32F16Bf16AndQ8_0) {
  TempDir dir;
  std::vector<float> x(64);
  for (int i = 0; i < 64; ++i) x[size_t(i)] = float(i - 20) / 8.f;
  GgufWriter w;
  for (GgmlType t : {GgmlType::F32, GgmlType::F16, GgmlType::BF16, GgmlType::Q8_0})
    w.add_tensor(std::string(ggml_type_name(uint32_t(t))), t, {2, 32}, encode_ggml(x.data(), 64, t));
  const std::string path = dir / "w.gguf";
  ASSERT_TRUE(w.write(path).is_ok());
  auto f = GgufFile::open(path);
  ASSERT_TRUE(f.is_ok()) << f.status().message();
  for (const GgufTensorInfo& t : f->tensors()) {
    EXPECT_EQ(t.shape(), (std::vector<int64_t>{2, 32}));
    EXPECT_EQ(t.ne, (std::vector<int64_t>{32, 2}));
    EXPECT_EQ(t.offset % 32, 0u);
    auto v = f->to_f32(t);
    ASSERT_TRUE(v.is_ok()) << v.status().message();
    // Multiples of 1/8 in [-2.5, 5.4] are exact in F16/BF16; Q8_0 rounds to amax/127 steps.
    // (half a step, plus the f16 rounding of the scale times |q| <= 127).
    const double tol = t.type == uint32_t(GgmlType::Q8_0) ? 5.375 / 127 * 0.6 : 0.0;
    for (int i = 0; i < 64; ++i) EXPECT_NEAR(v->f32()[i], x[size_t(i)], tol) << t.name << " " << i;
  }
  // Q8_0 by hand: block 0 has amax 2.5 → d = 2.5/127 (stored as f16), q = round(x / d).
  std::string q = encode_ggml(x.data(), 32, GgmlType::Q8_0);
  ASSERT_EQ(q.size(), 34u);
  uint16_t dbits;
  std::memcpy(&dbits, q.data(), 2);
  EXPECT_EQ(dbits, f32_to_f16(2.5f / 127.f));
  EXPECT_EQ(int8_t(q[2]), -127);                                         // x = -2.5
  EXPECT_EQ(int8_t(q[2 + 21]), int8_t(std::lround(0.125 * 127 / 2.5)));  // x = 0.125 → 6
}

TEST(Gguf, AlignmentFromMetadataPlacesTheDataSection) {
  TempDir dir;
  GgufWriter w;
  w.set_alignment(64);
  w.set_string("general.name", "x");  // an odd-sized header
  std::vector<float> a(3, 1.5f), b(5, -1.f);
  w.add_tensor("a", GgmlType::F32, {3}, encode_ggml(a.data(), 3, GgmlType::F32));
  w.add_tensor("b", GgmlType::F32, {5}, encode_ggml(b.data(), 5, GgmlType::F32));
  auto bytes = w.serialize();
  ASSERT_TRUE(bytes.is_ok());
  auto f = open_bytes(dir, *bytes);
  ASSERT_TRUE(f.is_ok()) << f.status().message();
  EXPECT_EQ(f->alignment(), 64u);
  EXPECT_EQ(f->data_offset() % 64, 0u);
  EXPECT_EQ(f->find_tensor("b")->offset, 64u);
  EXPECT_EQ(f->to_f32(*f->find_tensor("b"))->f32()[4], -1.f);

  GgufWriter bad;
  bad.set("general.alignment", GgufValue::of_uint(GgufType::U32, 48));
  EXPECT_NE(error_of(dir, *bad.serialize()).find("general.alignment must be a u32 power of two"), std::string::npos);
}

TEST(Gguf, BadInputGivesErrorsNamingTheFile) {
  TempDir dir;
  const std::string good = hand_made_v2();
  // Every truncation of the header (and of the data) fails cleanly.
  for (size_t n = 0; n < good.size(); ++n) {
    auto f = open_bytes(dir, good.substr(0, n));
    ASSERT_FALSE(f.is_ok()) << "prefix " << n;
    EXPECT_EQ(f.status().message().rfind(dir / "t.gguf", 0), 0u) << f.status().message();
  }
  EXPECT_NE(error_of(dir, good.substr(0, 20)).find("truncated"), std::string::npos);
  EXPECT_NE(error_of(dir, good.substr(0, good.size() - 1)).find("'q8' (34 bytes at data offset 32) runs past the end"),
            std::string::npos);
  EXPECT_NE(error_of(dir, "GGML" + good.substr(4)).find("not a GGUF file"), std::string::npos);

  auto patched = [&](size_t at, auto value) {
    std::string s = good;
    std::memcpy(s.data() + at, &value, sizeof(value));
    return s;
  };
  EXPECT_NE(error_of(dir, patched(4, uint32_t(4))).find("unknown GGUF version 4"), std::string::npos);
  EXPECT_NE(error_of(dir, patched(4, uint32_t(1))).find("version 1 is not supported"), std::string::npos);
  EXPECT_NE(error_of(dir, patched(4, uint32_t(0x03000000))).find("big-endian"), std::string::npos);
  EXPECT_NE(error_of(dir, patched(8, uint64_t(1) << 60)).find("tensor count"), std::string::npos);
  EXPECT_NE(error_of(dir, patched(16, uint64_t(1) << 60)).find("metadata count"), std::string::npos);
  // Key length (offset 24) and value type (offset 38).
  EXPECT_NE(error_of(dir, patched(24, uint64_t(1) << 62)).find("claims"), std::string::npos);
  EXPECT_NE(error_of(dir, patched(38, uint32_t(77))).find("unknown value type 77"), std::string::npos);
  // Tensor "f16": type at 46 + 8 + 3 + 4 + 16 = 77; "q8": ne0 at 89 + 8 + 2 + 4 = 103, type at 111, offset at 115.
  EXPECT_NE(error_of(dir, patched(77, uint32_t(4))).find("unknown ggml type 4"), std::string::npos);
  EXPECT_NE(error_of(dir, patched(115, uint64_t(16))).find("not a multiple of the alignment"), std::string::npos);
  EXPECT_NE(error_of(dir, patched(103, uint64_t(33))).find("not a multiple of the block size 32"), std::string::npos);

  Bytes arr;
  arr.s = "GGUF";
  arr.put<uint32_t>(3).put<uint64_t>(0).put<uint64_t>(1).str("a").put<uint32_t>(9).put<uint32_t>(8).put<uint64_t>(
      1ull << 61);
  EXPECT_NE(error_of(dir, arr.s).find("array of 2305843009213693952 string values"), std::string::npos);
  Bytes str;
  str.s = "GGUF";
  str.put<uint32_t>(3).put<uint64_t>(0).put<uint64_t>(1).str("a").put<uint32_t>(8).put<uint64_t>(~0ull);
  EXPECT_NE(error_of(dir, str.s).find("claims 18446744073709551615 bytes"), std::string::npos);
  Bytes dims;
  dims.s = "GGUF";
  dims.put<uint32_t>(3).put<uint64_t>(1).put<uint64_t>(0).str("t").put<uint32_t>(5);
  for (int i = 0; i < 5; ++i) dims.put<uint64_t>(1);
  dims.put<uint32_t>(0).put<uint64_t>(0);
  EXPECT_NE(error_of(dir, dims.s).find("5 dimensions"), std::string::npos);
  Bytes huge;
  huge.s = "GGUF";
  huge.put<uint32_t>(3)
      .put<uint64_t>(1)
      .put<uint64_t>(0)
      .str("t")
      .put<uint32_t>(2)
      .put<uint64_t>(1ull << 40)
      .put<uint64_t>(1ull << 40)
      .put<uint32_t>(0)
      .put<uint64_t>(0);
  EXPECT_NE(error_of(dir, huge.s).find("absurd shape"), std::string::npos);
}

TEST(Gguf, UnsupportedTypesAreListedButNotRead) {
  TempDir dir;
  GgufWriter w;
  w.add_raw_tensor("blk.0.attn_q.weight", 17, {256, 2}, std::string(2 * 74, '\0'));  // IQ2_XS
  auto f = open_bytes(dir, *w.serialize());
  ASSERT_TRUE(f.is_ok()) << f.status().message();
  const GgufTensorInfo& t = f->tensors()[0];
  EXPECT_EQ(t.nbytes, 148u);
  auto v = f->to_f32(t);
  ASSERT_FALSE(v.is_ok());
  EXPECT_NE(v.status().message().find("unsupported ggml type IQ2_XS (17) for tensor 'blk.0.attn_q.weight'"),
            std::string::npos)
      << v.status().message();
}

// general.alignment 2 lets an F32 tensor start on an odd multiple of 2: refused, not read misaligned.
TEST(Gguf, ElementTypesMustSitOnTheirElementSize) {
  TempDir dir;
  GgufWriter w;
  w.set_alignment(2);
  const float one = 1.f;
  w.add_raw_tensor("a", uint32_t(GgmlType::F16), {1}, std::string(2, '\0'));
  w.add_raw_tensor("b", uint32_t(GgmlType::F32), {1}, std::string(reinterpret_cast<const char*>(&one), 4));
  auto f = open_bytes(dir, *w.serialize());
  ASSERT_TRUE(f.is_ok()) << f.status().message();
  const GgufTensorInfo* b = f->find_tensor("b");
  ASSERT_NE(b, nullptr);
  if (reinterpret_cast<uintptr_t>(b->data) % 4 == 0) GTEST_SKIP() << "the data section landed aligned";
  auto v = f->view(*b);
  ASSERT_FALSE(v.is_ok());
  EXPECT_NE(v.status().message().find("not a multiple of its element size 4"), std::string::npos)
      << v.status().message();
}

// A quantized tensor whose rows are not whole blocks cannot be a matrix of blocks.
TEST(Gguf, QuantizedRowsMustBeWholeBlocks) {
  TempDir dir;
  GgufWriter w;
  w.add_raw_tensor("blk.0.attn_q.weight", 12, {128, 4}, std::string(2 * 144, '\0'));  // Q4_K, rows of 128
  auto f = open_bytes(dir, *w.serialize());
  ASSERT_FALSE(f.is_ok());
  EXPECT_NE(f.status().message().find("'blk.0.attn_q.weight' (Q4_K) has 128 elements per row, not a multiple"),
            std::string::npos)
      << f.status().message();
}

}  // namespace
}  // namespace peft
