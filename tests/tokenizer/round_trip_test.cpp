// decode(encode(x)) == x on the shared data sets for GPT-2, Llama-2 (sentencepiece), the
// SentencePiece-from-vocabulary tokenizer and a LLaMA tokenizer.json; the last two must also
// give sentencepiece's ids. An even sample by default, every text in the Slow test.
#include <gtest/gtest.h>

#include <chrono>

#include "cli/cli_runner.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_test_util.h"
#include "tokenizer/vocab_spec.h"

namespace peft {
namespace {

struct Named {
  std::string name;
  std::unique_ptr<Tokenizer> tok;
  const Tokenizer* same_ids_as = nullptr;  // must encode exactly like this one
};

std::unique_ptr<Tokenizer> must(Result<std::unique_ptr<Tokenizer>> r) {
  EXPECT_TRUE(r.is_ok()) << r.status().message();
  return r.is_ok() ? std::move(r).value() : nullptr;
}

// Every file, `per_file` texts spread evenly over it (0: all of them).
void round_trip(size_t per_file) {
  const auto& files = test::dataset_texts();
  ASSERT_GT(files.size(), 40u);
  test::TempDir dir;
  const VocabSpec llama2 = test::vocab_from_sentencepiece(test::llama2_model());
  test::write_file(dir / "tokenizer.json", test::llama_tokenizer_json(llama2, false).dump());
  std::vector<Named> toks;
  toks.push_back({"gpt2 (encoder.json + vocab.bpe)", must(load_tokenizer(test::gpt2_dir()))});
  toks.push_back({"llama2 (tokenizer.model, libsentencepiece)", must(load_tokenizer(test::llama2_model()))});
  toks.push_back(
      {"llama2 (SpmVocabTokenizer)", must(tokenizer_from_vocab(llama2, "llama2 pieces")), toks[1].tok.get()});
  toks.push_back(
      {"llama2 (tokenizer.json, derived merges)", must(load_tokenizer(dir / "tokenizer.json")), toks[1].tok.get()});
  for (const Named& t : toks) ASSERT_TRUE(t.tok) << t.name;

  for (const Named& t : toks) {
    const auto start = std::chrono::steady_clock::now();
    size_t texts = 0, bytes = 0, tokens = 0, failures = 0, mismatches = 0;
    for (const auto& file : files) {
      const size_t step = per_file == 0 ? 1 : std::max<size_t>(1, file.texts.size() / per_file);
      for (size_t i = 0; i < file.texts.size(); i += step) {
        const std::string& text = file.texts[i];
        auto ids = t.tok->encode(text, false);
        ++texts;
        bytes += text.size();
        tokens += ids.size();
        if (t.tok->decode(ids) != text && ++failures <= 3) {
          ADD_FAILURE() << t.name << ": " << file.path << " text " << i << " does not round-trip: " << text;
        }
        if (t.same_ids_as && ids != t.same_ids_as->encode(text, false) && ++mismatches <= 3) {
          ADD_FAILURE() << t.name << ": " << file.path << " text " << i << " differs from sentencepiece: " << text;
        }
      }
    }
    EXPECT_EQ(failures, 0u) << t.name;
    EXPECT_EQ(mismatches, 0u) << t.name;
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("%s: %zu texts (%.1f MB, %zu tokens) round-trip%s in %.2f s\n", t.name.c_str(), texts, bytes / 1e6,
                tokens, t.same_ids_as ? ", ids == sentencepiece's" : "", s);
  }
}

TEST(DatasetRoundTrip, EvenSampleOfEveryFile) { round_trip(40); }

// The full pass: every text of every file (about 30 MB per tokenizer).
TEST(SlowDatasetRoundTrip, EveryText) { round_trip(0); }

}  // namespace
}  // namespace peft
