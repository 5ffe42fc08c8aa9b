// Hugging Face's BPE model: merges by rank over one pre-tokenized word, byte fallback, unk.
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "tokenizer/token_map.h"
#include "tokenizer/tokenizer_spec.h"
#include "tokenizer/word_cache.h"

namespace peft {

class BpeModel {
 public:
  // Errors name `where` and the bad entry: a merge whose parts or result are not tokens,
  // an unk_token missing from the vocabulary.
  static Result<std::unique_ptr<BpeModel>> build(BpeSpec spec, const std::string& where);

  // Appends the ids of one word (a pre-token) to `out`. Thread-safe.
  void encode(std::string_view word, std::vector<int32_t>& out) const;

  int32_t token_id(std::string_view token) const { return find_token(ids_, token); }
  const std::vector<std::string>& vocab() const { return vocab_; }

 private:
  struct MergeInfo {
    int32_t rank, new_id;
  };
  static uint64_t pair_key(int32_t a, int32_t b) { return (uint64_t(uint32_t(a)) << 32) | uint32_t(b); }
  const MergeInfo* find_merge(int32_t a, int32_t b) const;
  void encode_uncached(std::string_view word, std::vector<int32_t>& out) const;
  void encode_cached(std::string_view word, std::vector<int32_t>& out) const;

  BpeSpec spec_;  // flags and affixes; vocab and merges live in the tables below
  std::vector<std::string> vocab_;
  TokenMap ids_;
  std::unordered_map<uint64_t, MergeInfo> merges_;
  int32_t unk_id_ = -1;
  int32_t byte_ids_[256];
  // Words may be cut before each "▁" that follows another character: exact when no token
  // holds such a pair (SentencePiece-style vocabularies), and it lets the cache work on
  // inputs that arrive as one long pre-token (no pre_tokenizer, only a normalizer).
  bool split_at_marker_ = false;

  WordCache cache_;
};

}  // namespace peft
