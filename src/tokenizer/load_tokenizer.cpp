// load_tokenizer: pick the tokenizer implementation from what the path holds.
#include <filesystem>
#include <vector>

#include "tokenizer/deberta_spm.h"
#include "tokenizer/gguf_tokenizer.h"
#include "tokenizer/gpt2_files.h"
#include "tokenizer/sentencepiece_tokenizer.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_json.h"
#include "tokenizer/wordpiece_files.h"

namespace peft {
namespace {

namespace fs = std::filesystem;

Result<std::unique_ptr<Tokenizer>> load_sentencepiece(const std::string& path) {
  PEFT_ASSIGN_OR_RETURN(auto tok, SentencePieceTokenizer::load(path));
  return std::unique_ptr<Tokenizer>(std::move(tok));
}

// spm.model is DebertaV2Tokenizer's file name (tokenizer.model LLaMA's and others').
Result<std::unique_ptr<Tokenizer>> load_deberta_spm(const std::string& path) {
  PEFT_ASSIGN_OR_RETURN(auto tok, DebertaSpmTokenizer::load(path));
  return std::unique_ptr<Tokenizer>(std::move(tok));
}

bool is_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

// GPT-2's two files must come together; a folder with only one of them says so.
Result<std::unique_ptr<Tokenizer>> load_gpt2_pair(const fs::path& dir) {
  const fs::path encoder = dir / "encoder.json", merges = dir / "vocab.bpe";
  if (!is_file(encoder)) return Status::errorf("{}: vocab.bpe needs encoder.json beside it", merges.string());
  if (!is_file(merges))
    return Status::errorf("{}: encoder.json needs vocab.bpe (the merges) beside it", encoder.string());
  return load_gpt2_files(encoder.string(), merges.string());
}

}  // namespace

Result<std::unique_ptr<Tokenizer>> load_tokenizer(const std::string& path) {
  std::error_code ec;
  const fs::path p(path);
  if (fs::is_directory(p, ec)) {
    // Hugging Face prefers tokenizer.json (the fast tokenizer) over tokenizer.model.
    if (is_file(p / "tokenizer.json")) return load_tokenizer_json((p / "tokenizer.json").string());
    if (is_file(p / "tokenizer.model")) return load_sentencepiece((p / "tokenizer.model").string());
    if (is_file(p / "spm.model")) return load_deberta_spm((p / "spm.model").string());
    if (is_file(p / "vocab.json") && is_file(p / "merges.txt")) return load_vocab_merges(p.string());
    if (is_file(p / "vocab.txt")) return load_bert_vocab((p / "vocab.txt").string());  // BERT (slow tokenizer)
    if (is_file(p / "encoder.json") || is_file(p / "vocab.bpe")) return load_gpt2_pair(p);
    return Status::errorf(
        "{}: no tokenizer found (looked for tokenizer.json, tokenizer.model, spm.model, vocab.json + merges.txt, "
        "vocab.txt, encoder.json + vocab.bpe)",
        path);
  }
  if (!fs::exists(p, ec)) return Status::errorf("{}: no such file or folder", path);
  const std::string name = p.filename().string();
  if (name == "encoder.json" || name == "vocab.bpe") return load_gpt2_pair(p.parent_path());
  if (p.extension() == ".json") return load_tokenizer_json(path);
  if (p.extension() == ".txt") return load_bert_vocab(path);       // vocab.txt, bert-base-uncased-vocab.txt
  if (p.extension() == ".gguf") return load_gguf_tokenizer(path);  // the vocabulary a GGUF embeds
  if (name == "spm.model") return load_deberta_spm(path);
  return load_sentencepiece(path);
}

}  // namespace peft
