// Tokenization of training examples with LLM-Adapters' truncation, EOS and masking rules.
#include "data/tokenize_example.h"

#include <algorithm>

#include "core/check.h"
#include "data/prompt.h"

namespace peft {

namespace {

// HF truncation=True, max_length=L on one sequence: the text ids are cut to
// L - (number of special tokens), then the special tokens go around them again. Finding
// the text inside encode(text, true) tells how many specials lead and trail.
std::vector<int32_t> truncate_like_hf(const Tokenizer& tokenizer, std::string_view text, std::vector<int32_t> full,
                                      int64_t cutoff_len) {
  if (int64_t(full.size()) <= cutoff_len) return full;
  std::vector<int32_t> plain = tokenizer.encode(text, /*add_bos=*/false);
  const size_t extra = full.size() >= plain.size() ? full.size() - plain.size() : 0;
  for (size_t lead = 0; lead <= extra && full.size() >= plain.size(); ++lead) {
    if (!std::equal(plain.begin(), plain.end(), full.begin() + lead)) continue;
    const size_t trail = extra - lead;
    if (int64_t(lead + trail) >= cutoff_len) break;  // no room for text: plain cut below
    std::vector<int32_t> out(full.begin(), full.begin() + lead);
    out.insert(out.end(), plain.begin(), plain.begin() + (cutoff_len - int64_t(lead + trail)));
    out.insert(out.end(), full.end() - trail, full.end());
    return out;
  }
  full.resize(size_t(cutoff_len));
  return full;
}

// No token is longer than this many bytes in the vocabularies we read (SentencePiece and BPE
// pieces stay under ~32), so the first cutoff_len tokens of a text lie in its first
// cutoff_len · kMaxTokenBytes bytes; a margin keeps a merge across the cut from reaching back.
constexpr int64_t kMaxTokenBytes = 64;

// A prefix of `text` that tokenizes to the same first `cutoff_len` tokens: a 10 MB record
// with --cutoff-len 256 is tokenized from its first ~20 KB, not whole (which took 2.7 GB).
std::string_view budget_prefix(std::string_view text, int64_t cutoff_len) {
  const int64_t budget = 2 * cutoff_len * kMaxTokenBytes + 4096;
  if (int64_t(text.size()) <= budget) return text;
  size_t cut = size_t(budget);
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // a UTF-8 boundary
  return text.substr(0, cut);
}

}  // namespace

TokenizedExample tokenize_prompt(const Tokenizer& tokenizer, std::string_view prompt_in, int64_t cutoff_len,
                                 bool add_eos) {
  PEFT_CHECK(cutoff_len > 0, "cutoff_len must be positive, got {}", cutoff_len);
  TokenizedExample ex;
  const std::string_view prompt = budget_prefix(prompt_in, cutoff_len);
  std::vector<int32_t> full = tokenizer.encode(prompt, /*add_bos=*/true);
  ex.truncated = int64_t(full.size()) > cutoff_len || prompt.size() < prompt_in.size();
  ex.ids = truncate_like_hf(tokenizer, prompt, std::move(full), cutoff_len);
  const int32_t eos = tokenizer.eos_id();
  // Python indexes result["input_ids"][-1]; an empty result (no BOS, empty text) just gets EOS.
  if (add_eos && eos >= 0 && int64_t(ex.ids.size()) < cutoff_len && (ex.ids.empty() || ex.ids.back() != eos))
    ex.ids.push_back(eos);
  ex.labels = ex.ids;
  return ex;
}

TokenizedExample tokenize_record(const Tokenizer& tokenizer, const Record& record, const TokenizeOptions& options) {
  TokenizedExample ex = tokenize_prompt(tokenizer, record_prompt(record), options.cutoff_len, options.add_eos);
  if (options.train_on_inputs || record.kind == RecordKind::Text) return ex;
  const int64_t user_len =
      int64_t(tokenize_prompt(tokenizer, record_user_prompt(record), options.cutoff_len, /*add_eos=*/false).ids.size());
  // Python builds [-100] * user_len + labels[user_len:], which would grow past T if the user
  // prompt tokenized longer than the whole; clipping keeps labels aligned with ids.
  ex.n_masked = std::min<int64_t>(user_len, int64_t(ex.labels.size()));
  std::fill(ex.labels.begin(), ex.labels.begin() + ex.n_masked, kIgnoreLabel);
  return ex;
}

std::vector<TokenizedExample> tokenize_records(const Tokenizer& tokenizer, std::span<const Record> records,
                                               const TokenizeOptions& options) {
  std::vector<TokenizedExample> out(records.size());
  const int64_t n = int64_t(records.size());
#pragma omp parallel for schedule(dynamic, 32)
  for (int64_t i = 0; i < n; ++i) {
    TokenizedExample& e = out[size_t(i)] = tokenize_record(tokenizer, records[size_t(i)], options);
    // Appending EOS doubled most vectors' capacity; the set lives for the whole run.
    e.ids.shrink_to_fit();
    e.labels.shrink_to_fit();
  }
  return out;
}

}  // namespace peft
