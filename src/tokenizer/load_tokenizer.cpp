// load_tokenizer: pick the tokenizer implementation from what the path holds.
#include <filesystem>
#include <vector>

#include "tokenizer/sentencepiece_tokenizer.h"
#include "tokenizer/tokenizer.h"

namespace peft {
namespace {

namespace fs = std::filesystem;
using Loader = Result<std::unique_ptr<Tokenizer>> (*)(const std::string& path);

Result<std::unique_ptr<Tokenizer>> load_sentencepiece(const std::string& path) {
  PEFT_ASSIGN_OR_RETURN(auto tok, SentencePieceTokenizer::load(path));
  return std::unique_ptr<Tokenizer>(std::move(tok));
}

// File names looked for inside a model folder, in order of preference. New formats
// (tokenizer.json, GGUF vocab) add a row here.
struct Candidate {
  const char* file_name;
  Loader load;
};
constexpr Candidate kFolderCandidates[] = {
    {"tokenizer.model", load_sentencepiece},
};

bool has_suffix(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

Result<std::unique_ptr<Tokenizer>> load_tokenizer(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    std::string looked_for;
    for (const Candidate& c : kFolderCandidates) {
      std::string file = (fs::path(path) / c.file_name).string();
      if (fs::is_regular_file(file, ec)) return c.load(file);
      looked_for += looked_for.empty() ? c.file_name : std::string(", ") + c.file_name;
    }
    return Status::errorf("{}: no tokenizer found (looked for {})", path, looked_for);
  }
  if (!fs::exists(path, ec)) return Status::errorf("{}: no such file or folder", path);
  // A single file: formats not implemented yet get a clear message instead of a
  // confusing "not a SentencePiece model".
  if (has_suffix(path, ".json")) {
    return Status::errorf("{}: tokenizer.json files are not supported yet (only SentencePiece .model)", path);
  }
  if (has_suffix(path, ".gguf")) {
    return Status::errorf("{}: GGUF tokenizers are not supported yet (only SentencePiece .model)", path);
  }
  return load_sentencepiece(path);
}

}  // namespace peft
