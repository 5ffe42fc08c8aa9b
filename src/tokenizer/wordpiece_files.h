// BERT's tokenizer files -> WordPieceSpec -> WordPieceTokenizer: vocab.txt with the
// transformers files beside it, or a tokenizer.json whose model is WordPiece.
#pragma once
#include <memory>
#include <string>

#include "core/status.h"
#include "io/json_file.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/wordpiece.h"

namespace peft {

// vocab.txt: one token per line, the line number its id (lines end at \n, \r\n or \r, as
// Python's text mode reads them). What BertTokenizer.from_pretrained reads beside it:
//   tokenizer_config.json: do_lower_case (true), strip_accents (null: as do_lower_case),
//     tokenize_chinese_chars (true), never_split, do_basic_tokenize (true),
//     clean_up_tokenization_spaces (true), unk/sep/pad/cls/mask_token and
//     additional_special_tokens ("[CLS]" or {"content": "[CLS]", ...});
//   special_tokens_map.json: special tokens again (these win);
//   added_tokens.json: {"token": id}, tokens added past the vocabulary (ids consecutive).
// Special tokens the vocabulary lacks get the next ids, as from_pretrained adds them; the
// unknown token must be there. encode(text, true) is [CLS] text [SEP] (so bos/eos are
// [CLS]/[SEP]); a pair is [CLS] a [SEP] b [SEP], types 0 through the first [SEP], then 1.
Result<WordPieceSpec> bert_vocab_spec(const std::string& vocab_txt);
Result<std::unique_ptr<Tokenizer>> load_bert_vocab(const std::string& vocab_txt);

// Whether a tokenizer.json document's model is WordPiece.
bool is_wordpiece_json(const Json& root);

// A WordPiece tokenizer.json: BertNormalizer (or none), BertPreTokenizer, the WordPiece
// decoder (or none), a post_processor as parse_post_processor reads it. Follows the Rust
// pipeline where it differs from the slow one: no NFC step, added tokens matched in the raw
// text, no never_split. A tokenizer_config.json beside it may set do_lower_case,
// strip_accents and tokenize_chinese_chars (BertTokenizerFast rebuilds its normalizer from
// them) and clean_up_tokenization_spaces.
Result<std::unique_ptr<Tokenizer>> load_wordpiece_json(const Json& root, const std::string& path);

}  // namespace peft
