// Quantized bases through the CLI: a quantized GGUF file as the base of logits and merge, the
// merge's requantization report, and the bad inputs (wrong flags, a quantized file asked to be
// quantized again) refused by name with nothing written.
#include <gtest/gtest.h>

#include <filesystem>

#include "cli/cli_runner.h"
#include "io/safetensors.h"

namespace peft {
namespace {

namespace fs = std::filesystem;
using test::run_peft;

std::string llama() { return test::fixture_path("llama/model"); }
std::string llama_lora() { return test::fixture_path("llama/lora/adapter"); }

using test::expect_error;

std::vector<float> logits(const test::TempDir& dir, const std::string& model, const std::string& extra = "") {
  const std::string in = dir / "ids.safetensors", out = dir / "logits.safetensors";
  if (!fs::exists(in)) {
    std::vector<int32_t> ids = {1, 17, 33, 200, 5, 99, 250, 7};
    EXPECT_TRUE(write_safetensors(in, {NamedTensor{"input_ids", Tensor(ids.data(), DType::I32, {1, 8})}}).is_ok());
  }
  auto r = run_peft("logits --model " + model + " --input " + in + " --output " + out + " --overwrite " + extra);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto f = SafetensorsFile::open(out);
  EXPECT_TRUE(f.is_ok());
  OwnedTensor t = to_f32(*f->find("logits"));
  return std::vector<float>(t.f32(), t.f32() + t.numel());
}

double max_abs(const std::vector<float>& v) {
  double m = 0;
  for (float x : v) m = std::max(m, double(std::fabs(x)));
  return m;
}

// Merge onto a Q8_0 GGUF base: a Q8_0 file whose merged matrices are requantized (and reported),
// the untouched ones copied; its logits are the adapter's on the base within Q8_0's rounding.
TEST(QuantizedBase, MergeOntoAGgufBaseReportsTheRequantization) {
  test::TempDir dir;
  const std::string q8 = dir / "base-q8_0.gguf";
  ASSERT_EQ(run_peft("export --format gguf --model " + llama() + " --out " + q8 + " --type q8_0").exit_code, 0);
  const std::string merged = dir / "merged.gguf";
  auto r = run_peft("merge --model " + q8 + " --adapter " + llama_lora() + " --out " + merged + " --type q8_0");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("storage error over"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("blk.0.attn_q.weight"), std::string::npos) << r.err;  // the adapter's targets
  EXPECT_NE(r.err.find("blk.1.ffn_down.weight"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("token_embd.weight"), std::string::npos) << "an untouched Q8_0 matrix was requantized";
  const auto unmerged = logits(dir, q8, "--adapter " + llama_lora());
  const auto folded = logits(dir, merged);
  EXPECT_LE(test::max_abs_diff(unmerged.data(), folded.data(), int64_t(folded.size())), 0.05 * max_abs(unmerged));
  // Into a Hugging Face folder: the untouched quantized matrices written decoded (bf16), the
  // merged ones f32; it loads and computes what the quantized merge does.
  auto folder = run_peft("merge --model " + q8 + " --adapter " + llama_lora() + " --out " + (dir / "merged-hf"));
  ASSERT_EQ(folder.exit_code, 0) << folder.err;
  const auto from_folder = logits(dir, dir / "merged-hf");
  EXPECT_LE(test::max_abs_diff(unmerged.data(), from_folder.data(), int64_t(folded.size())), 0.05 * max_abs(unmerged));
  // F16 output: only the merged matrices and the requantized Q8_0 ones move.
  auto f16 =
      run_peft("merge --model " + q8 + " --adapter " + llama_lora() + " --out " + (dir / "m16.gguf") + " --type f16");
  ASSERT_EQ(f16.exit_code, 0) << f16.err;
  EXPECT_NE(f16.err.find(" F16 "), std::string::npos) << f16.err;
}

TEST(QuantizedBase, QuantizeAtLoadTrainsAndRefusesWhatItCannot) {
  test::TempDir dir;
  // q4_0 at load: the projections quantized, logits near the f32 base's.
  const auto f32 = logits(dir, llama());
  const auto q4 = logits(dir, llama(), "--base-dtype q4_0");
  EXPECT_LE(test::max_abs_diff(f32.data(), q4.data(), int64_t(f32.size())), 0.5 * max_abs(f32));
  EXPECT_GT(test::max_abs_diff(f32.data(), q4.data(), int64_t(f32.size())), 0.0);
  // Rows of 64 are not whole Q4_K blocks of 256: kept in bf16, said so.
  auto note = run_peft("logits --model " + llama() + " --input " + (dir / "ids.safetensors") + " --output " +
                       (dir / "l.safetensors") + " --base-dtype q4_k");
  EXPECT_EQ(note.exit_code, 0) << note.err;
  EXPECT_NE(note.err.find("kept in bf16"), std::string::npos) << note.err;

  expect_error(run_peft("logits --model " + llama() + " --input " + (dir / "ids.safetensors") + " --output " +
                        (dir / "x.safetensors") + " --base-dtype q5_k"),
               "--base-dtype: expected f32, bf16, q8_0, q4_0, q4_k or nf4");
  expect_error(run_peft("logits --model " + llama() + " --input " + (dir / "ids.safetensors") + " --output " +
                        (dir / "x.safetensors") + " --base-dtype bf16:all"),
               "found 'bf16:all'");
  // q4_0:all quantizes the embedding and head too: logits move further from f32's than q4_0's.
  const auto q4_all = logits(dir, llama(), "--base-dtype q4_0:all");
  EXPECT_NE(test::max_abs_diff(q4.data(), q4_all.data(), int64_t(q4.size())), 0.0);
  const std::string q8 = dir / "q8.gguf";
  ASSERT_EQ(run_peft("export --format gguf --model " + llama() + " --out " + q8 + " --type q8_0").exit_code, 0);
  expect_error(run_peft("logits --model " + q8 + " --input " + (dir / "ids.safetensors") + " --output " +
                        (dir / "x.safetensors") + " --base-dtype nf4"),
               "--base-dtype NF4 quantizes a float checkpoint, but tensor");
  const std::string out = dir / "never.gguf";
  expect_error(run_peft("merge --model " + q8 + " --adapter " + llama_lora() + " --out " + out + " --type q6_k"),
               "--type: expected f32, f16, bf16, q8_0, q4_0 or q4_k, found 'q6_k'");
  EXPECT_FALSE(fs::exists(out));
  expect_error(run_peft("merge --model " + llama() + " --adapter " + llama_lora() + " --out " + (dir / "folder") +
                        " --type q4_0"),
               "--type applies to a .gguf --out");
  EXPECT_FALSE(fs::exists(dir / "folder"));
}

}  // namespace
}  // namespace peft
