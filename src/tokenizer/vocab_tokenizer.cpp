// tokenizer_from_vocab: GGUF-style arrays -> SpmVocabTokenizer ("llama") or byte-level BPE ("gpt2").
#include <string_view>

#include "tokenizer/hf_tokenizer.h"
#include "tokenizer/pretokenize.h"
#include "tokenizer/spm_vocab_tokenizer.h"
#include "tokenizer/vocab_spec.h"

namespace peft {
namespace {

// Hugging Face's Split regexes for the byte-level families llama.cpp names in tokenizer.ggml.pre.
constexpr const char* kLlama3Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kQwen2Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kKnownPre = "default, gpt-2, gpt2, llama-bpe, llama3, llama-v3, qwen2, smollm, starcoder, refact";

Status byte_level_pre_tokenizer(const std::string& pre, const std::string& where, std::vector<PreTokenizerStep>& out) {
  PreTokenizerStep byte_level;
  byte_level.kind = PreTokenizerStep::Kind::ByteLevel;
  byte_level.add_prefix_space = false;
  PreTokenizerStep split;
  split.kind = PreTokenizerStep::Kind::Split;
  split.behavior = SplitBehavior::Isolated;
  if (pre.empty() || pre == "default" || pre == "gpt-2" || pre == "gpt2") {
    byte_level.use_regex = true;
  } else if (pre == "llama-bpe" || pre == "llama3" || pre == "llama-v3") {
    split.pattern = {kLlama3Pattern, true};
    out.push_back(split);
    byte_level.use_regex = false;
  } else if (pre == "qwen2") {
    split.pattern = {kQwen2Pattern, true};
    out.push_back(split);
    byte_level.use_regex = false;
  } else if (pre == "smollm" || pre == "starcoder" || pre == "refact") {
    split.pattern = {R"(\p{N})", true};  // Digits(individual_digits=true)
    out.push_back(split);
    byte_level.use_regex = true;
  } else {
    return Status::errorf("{}: unsupported pre-tokenizer '{}' for a gpt2 vocabulary (supported: {})", where, pre,
                          kKnownPre);
  }
  out.push_back(byte_level);
  return Status::ok();
}

Result<std::unique_ptr<Tokenizer>> gpt2_from_vocab(const VocabSpec& v, const std::string& where) {
  TokenizerSpec spec;
  spec.where = where;
  spec.kind = "gpt2-bpe";
  spec.model.vocab = v.tokens;
  spec.model.merges.reserve(v.merges.size());
  for (size_t i = 0; i < v.merges.size(); ++i) {
    const size_t space = v.merges[i].find(' ');
    if (space == std::string::npos)
      return Status::errorf("{}: merge {} ('{}') is not two tokens separated by a space", where, i, v.merges[i]);
    spec.model.merges.emplace_back(v.merges[i].substr(0, space), v.merges[i].substr(space + 1));
  }
  PEFT_TRY(byte_level_pre_tokenizer(v.pre, where, spec.pre_tokenizer));
  spec.decoder.push_back(DecoderStep{});  // ByteLevel
  for (size_t id = 0; id < v.token_types.size() && id < v.tokens.size(); ++id) {
    const auto type = TokenType(v.token_types[id]);
    // Control tokens are special added tokens (matched in text, skipped by decode);
    // user-defined ones are matched in text but decoded.
    if (type == TokenType::Control || type == TokenType::UserDefined) {
      spec.added_tokens.push_back({int32_t(id), v.tokens[id], type == TokenType::Control, false, false, false, false});
    }
  }
  if (v.add_bos.value_or(false) && v.bos >= 0) spec.prefix_ids.push_back(v.bos);
  if (v.add_eos.value_or(false) && v.eos >= 0) spec.suffix_ids.push_back(v.eos);
  spec.bos = v.bos;
  spec.eos = v.eos;
  PEFT_ASSIGN_OR_RETURN(auto tok, HfBpeTokenizer::build(std::move(spec)));
  return std::unique_ptr<Tokenizer>(std::move(tok));
}

}  // namespace

Result<std::unique_ptr<Tokenizer>> tokenizer_from_vocab(const VocabSpec& spec, const std::string& where) {
  const size_t n = spec.tokens.size();
  if (n == 0) return Status::errorf("{}: the vocabulary has no tokens", where);
  if (!spec.token_types.empty() && spec.token_types.size() != n) {
    return Status::errorf("{}: {} tokens but {} token types", where, n, spec.token_types.size());
  }
  const std::initializer_list<std::pair<const char*, int32_t>> special_ids = {
      {"bos", spec.bos}, {"eos", spec.eos}, {"unk", spec.unk}, {"pad", spec.pad}};
  for (auto [name, id] : special_ids) {
    if (id < -1 || id >= int32_t(n))
      return Status::errorf("{}: {} token id {} outside the vocabulary (size {})", where, name, id, n);
  }
  if (spec.model == "llama") {
    PEFT_ASSIGN_OR_RETURN(auto tok, SpmVocabTokenizer::build(spec, where));
    return std::unique_ptr<Tokenizer>(std::move(tok));
  }
  if (spec.model == "gpt2") return gpt2_from_vocab(spec, where);
  return Status::errorf("{}: unsupported tokenizer model '{}' (supported: llama, gpt2)", where, spec.model);
}

}  // namespace peft
