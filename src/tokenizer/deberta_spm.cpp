// DebertaV2Tokenizer: special tokens and added tokens from the transformers files, pieces from
// sentencepiece (tokenization_deberta_v2.py and tokenization_utils.py, transformers 4.31).
#include "tokenizer/deberta_spm.h"

#include <algorithm>
#include <filesystem>

#include "tokenizer/bert_text.h"
#include "tokenizer/post_processor.h"
#include "tokenizer/slow_tokenizer_files.h"
#include "tokenizer/utf8.h"
#include "tokenizer/wordpiece.h"

namespace peft {
namespace {

namespace fs = std::filesystem;

// SPMTokenizer._run_split_on_punc: every punctuation character alone, the runs between them
// kept whole (whitespace included).
std::vector<std::string_view> split_on_punctuation(std::string_view text) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (size_t i = 0; i < text.size();) {
    const size_t len = std::max<size_t>(utf8::char_len(text, i), 1);
    if (utf8::valid_char_len(text, i) != 0 && is_punctuation(utf8::decode(text, i))) {
      if (i > start) out.push_back(text.substr(start, i - start));
      out.push_back(text.substr(i, len));
      start = i + len;
    }
    i += len;
  }
  if (start < text.size()) out.push_back(text.substr(start));
  return out;
}

// Python's str.strip() on a decoded run.
std::string_view strip_python(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && utf8::valid_char_len(s, b) != 0 && is_python_space(utf8::decode(s, b))) b += utf8::char_len(s, b);
  while (e > b) {
    size_t start = e - 1;
    while (start > b && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
    if (!is_python_space(utf8::decode(s, start))) break;
    e = start;
  }
  return s.substr(b, e - b);
}

}  // namespace

Result<std::unique_ptr<DebertaSpmTokenizer>> DebertaSpmTokenizer::load(const std::string& spm_model) {
  std::unique_ptr<DebertaSpmTokenizer> t(new DebertaSpmTokenizer());
  PEFT_ASSIGN_OR_RETURN(t->spm_, SentencePieceTokenizer::load(spm_model));
  const fs::path dir = fs::path(spm_model).parent_path();
  const std::string config_path = (dir / "tokenizer_config.json").string();
  std::vector<AddedTokenSpec> matched;  // cut out of the text before sentencepiece sees it
  SpecialTokenNames names;              // DebertaV2Tokenizer's defaults
  names.bos = names.cls = "[CLS]";
  names.eos = names.sep = "[SEP]";
  try {
    PEFT_ASSIGN_OR_RETURN(Json config, read_json_if_present(config_path));
    if (!config.is_null()) {
      PEFT_ASSIGN_OR_RETURN(t->lowercase_, json_get_bool_or(config, "do_lower_case", false, config_path));
      PEFT_ASSIGN_OR_RETURN(t->split_by_punct_, json_get_bool_or(config, "split_by_punct", false, config_path));
      PEFT_ASSIGN_OR_RETURN(t->cleanup_, json_get_bool_or(config, "clean_up_tokenization_spaces", true, config_path));
      PEFT_TRY(read_special_tokens(config, config_path, names));
    }
    PEFT_ASSIGN_OR_RETURN(Json special_map, read_json_if_present(dir / "special_tokens_map.json"));
    if (!special_map.is_null())
      PEFT_TRY(read_special_tokens(special_map, (dir / "special_tokens_map.json").string(), names));
    const int32_t n = t->spm_->vocab_size();
    for (int32_t id = 0; id < n; ++id) t->tokens_.push_back(t->spm_->piece(id));
    t->special_.assign(size_t(n), false);
    t->added_.assign(size_t(n), false);
    auto add = [&](std::string token, bool special) {
      // (transformers lowercases the tokens it adds to an uncased tokenizer, special ones aside.)
      if (!special && t->lowercase_) token = lowercase_chars(token);
      int32_t id = t->token_id(token);
      if (id < 0) {
        id = int32_t(t->tokens_.size());
        t->tokens_.push_back(token);
        t->special_.push_back(false);
        t->added_.push_back(true);
      }
      t->special_[size_t(id)] = t->special_[size_t(id)] || special;
      // The slow tokenizer strips the text either side of every token it does not split (str
      // tokens, added ones included).
      matched.push_back({id, token, special, true, true, false, false});
    };
    PEFT_ASSIGN_OR_RETURN(Json added, read_json_if_present(dir / "added_tokens.json"));
    if (!added.is_null()) {
      const std::string where = (dir / "added_tokens.json").string();
      PEFT_ASSIGN_OR_RETURN(auto entries, added_tokens_by_id(added, where));
      for (const auto& [id, token] : entries) {
        if (t->token_id(token) >= 0) continue;  // already a piece: from_pretrained skips it
        if (id != int64_t(t->tokens_.size()))
          return Status::errorf("{}: token '{}' has id {}, but the next free id is {}", where, token, id,
                                t->tokens_.size());
        add(token, false);
      }
    }
    if (names.unk.empty() || t->token_id(names.unk) < 0)
      return Status::errorf("{}: the unknown token '{}' is not among the model's pieces", spm_model, names.unk);
    for (const std::string& token : names.all()) add(token, true);
    if (names.cls.empty() || names.sep.empty())
      return Status::errorf("{}: cls_token and sep_token are needed for [CLS] text [SEP]", config_path);
    t->cls_ = t->token_id(names.cls);
    t->sep_ = t->token_id(names.sep);
  } catch (const Json::exception& e) {
    return Status::errorf("{}: {}", dir.string(), json_error_text(e));
  }
  t->pair_template_ = bert_pair_template(t->cls_, t->sep_);
  t->matcher_ = AddedTokenMatcher(std::move(matched));
  return t;
}

int32_t DebertaSpmTokenizer::token_id(std::string_view text) const {
  for (size_t id = size_t(spm_->vocab_size()); id < tokens_.size(); ++id)
    if (tokens_[id] == text) return int32_t(id);
  return spm_->token_id(text);
}

std::string DebertaSpmTokenizer::token_text(int32_t id) const {
  return id >= 0 && id < vocab_size() ? tokens_[size_t(id)] : std::string();
}

void DebertaSpmTokenizer::encode_text(std::string_view text, std::vector<int32_t>& ids) const {
  std::vector<TextSegment> segments;
  std::string lowered;
  if (lowercase_) {  // around the tokens the text already holds, then matched again
    matcher_.split(text, true, segments);
    for (const TextSegment& seg : segments) lowered += seg.id >= 0 ? std::string(seg.text) : lowercase_chars(seg.text);
    segments.clear();
    text = lowered;
  }
  matcher_.split(text, true, segments);
  for (const TextSegment& seg : segments) {
    if (seg.id >= 0) {
      ids.push_back(seg.id);
      continue;
    }
    const std::vector<std::string_view> pieces =
        split_by_punct_ ? split_on_punctuation(seg.text) : std::vector<std::string_view>{seg.text};
    for (std::string_view piece : pieces) {
      const std::vector<int32_t> p = spm_->encode(piece, false);
      ids.insert(ids.end(), p.begin(), p.end());
    }
  }
}

std::vector<int32_t> DebertaSpmTokenizer::encode(std::string_view text, bool add_bos) const {
  std::vector<int32_t> ids;
  if (add_bos) ids.push_back(cls_);
  encode_text(text, ids);
  if (add_bos) ids.push_back(sep_);
  return ids;
}

PairEncoding DebertaSpmTokenizer::encode_pair(std::string_view a, std::string_view b, bool add_special) const {
  return lay_out_pair(pair_template_, {cls_}, {sep_}, encode(a, false), encode(b, false), add_special);
}

std::string DebertaSpmTokenizer::decode(std::span<const int32_t> ids) const {
  std::vector<std::string> parts;
  std::vector<int32_t> run;
  auto flush = [&]() {
    if (run.empty()) return;
    parts.emplace_back(strip_python(spm_->decode(run)));
    run.clear();
  };
  for (int32_t id : ids) {
    if (id < 0 || id >= vocab_size() || special_[size_t(id)]) continue;
    if (added_[size_t(id)]) {
      flush();
      parts.push_back(tokens_[size_t(id)]);
    } else {
      run.push_back(id);
    }
  }
  flush();
  std::string text;
  for (size_t i = 0; i < parts.size(); ++i) text += (i ? " " : "") + parts[i];
  return cleanup_ ? clean_up_tokenization(std::move(text)) : text;
}

}  // namespace peft
