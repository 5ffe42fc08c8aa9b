// TokenizerSpec: a Hugging Face tokenizers pipeline as plain data, whatever file it came from.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace peft {

// tokenizer.json's {"String": "..."} or {"Regex": "..."}.
struct PatternSpec {
  std::string text;
  bool is_regex = false;
};

struct NormalizerStep {
  enum class Kind { Nfc, Nfd, Nfkc, Nfkd, Prepend, Replace, Lowercase, Strip };
  Kind kind = Kind::Nfc;
  std::string prepend;                           // Prepend
  PatternSpec pattern;                           // Replace
  std::string content;                           // Replace
  bool strip_left = false, strip_right = false;  // Strip
};

// How a Split keeps its matches (Hugging Face's SplitDelimiterBehavior).
enum class SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

// Digits, Whitespace, WhitespaceSplit and Punctuation are stored as the Split they amount to.
struct PreTokenizerStep {
  enum class Kind { ByteLevel, Split, Metaspace };
  enum class Prepend { Always, First, Never };
  Kind kind = Kind::ByteLevel;
  bool add_prefix_space = false, use_regex = true;  // ByteLevel
  PatternSpec pattern;                              // Split
  SplitBehavior behavior = SplitBehavior::Isolated;
  bool invert = false;
  std::string replacement = "\xE2\x96\x81";  // Metaspace ("▁")
  Prepend prepend_scheme = Prepend::Always;
  bool split = true;
};

struct DecoderStep {
  enum class Kind { ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace };
  Kind kind = Kind::ByteLevel;
  PatternSpec pattern;                       // Replace
  std::string content;                       // Replace: the replacement; Strip: the character stripped
  int strip_start = 0, strip_stop = 0;       // Strip
  std::string replacement = "\xE2\x96\x81";  // Metaspace
  bool prepend = true;                       // Metaspace: first token's marker is dropped
};

struct AddedTokenSpec {
  int32_t id = -1;
  std::string content;
  bool special = false, lstrip = false, rstrip = false, single_word = false, normalized = false;
};

// Hugging Face's BPE model. `vocab[id]` is the token (empty for ids the model lacks).
struct BpeSpec {
  std::vector<std::string> vocab;
  std::vector<std::pair<std::string, std::string>> merges;  // in rank order
  std::string unk_token;                                    // empty: none
  bool byte_fallback = false, fuse_unk = false, ignore_merges = false;
  std::string continuing_subword_prefix, end_of_word_suffix;
};

// One item of a post-processor's pair template: sequence A or B, or special-token ids.
struct TemplatePiece {
  enum class Kind { A, B, Special };
  Kind kind = Kind::A;
  std::vector<int32_t> ids;  // Special
  int32_t type_id = 0;
};

struct TokenizerSpec {
  std::string where;  // the file(s) it came from, for messages
  std::string kind;   // Tokenizer::kind(): "tokenizer.json", "gpt2-bpe", ...
  BpeSpec model;
  std::vector<NormalizerStep> normalizer;
  std::vector<PreTokenizerStep> pre_tokenizer;
  bool has_decoder = true;  // a null decoder joins tokens with spaces, as Hugging Face does
  std::vector<DecoderStep> decoder;
  std::vector<AddedTokenSpec> added_tokens;
  // What the post-processor puts around one sequence when special tokens are added.
  std::vector<int32_t> prefix_ids, suffix_ids;
  // How it lays out a pair; empty: prefix a suffix (type 0), prefix b suffix (type 1).
  std::vector<TemplatePiece> pair_template;
  int32_t bos = -1, eos = -1;
};

}  // namespace peft
