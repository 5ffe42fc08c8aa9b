// SentencePiece tokenizer: a thin wrapper over libsentencepiece that never throws.
#include "tokenizer/sentencepiece_tokenizer.h"

#include <sentencepiece_processor.h>

#include <fstream>
#include <iterator>

namespace peft {

Result<std::unique_ptr<SentencePieceTokenizer>> SentencePieceTokenizer::load(const std::string& path) {
  // Read the bytes ourselves so a missing file and a corrupt file get distinct messages.
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::errorf("{}: cannot open tokenizer file", path);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return Status::errorf("{}: read error", path);

  std::unique_ptr<SentencePieceTokenizer> tok(new SentencePieceTokenizer());
  tok->sp_ = std::make_unique<sentencepiece::SentencePieceProcessor>();
  tok->path_ = path;
  auto status = tok->sp_->LoadFromSerializedProto(bytes);
  if (!status.ok()) {
    return Status::errorf("{}: not a SentencePiece model ({})", path, status.ToString());
  }
  if (tok->sp_->GetPieceSize() <= 0) {
    return Status::errorf("{}: not a SentencePiece model (no pieces)", path);
  }
  return tok;
}

SentencePieceTokenizer::~SentencePieceTokenizer() = default;

std::vector<int32_t> SentencePieceTokenizer::encode(std::string_view text, bool add_bos) const {
  std::vector<int> ids;
  // Encode only fails on an unloaded model, which load() rules out.
  auto status = sp_->Encode(absl::string_view(text.data(), text.size()), &ids);
  std::vector<int32_t> out;
  out.reserve(ids.size() + 1);
  if (add_bos && bos_id() >= 0) out.push_back(bos_id());
  if (status.ok()) out.insert(out.end(), ids.begin(), ids.end());
  return out;
}

std::string SentencePieceTokenizer::decode(std::span<const int32_t> ids) const {
  // Like LlamaTokenizer.decode(skip_special_tokens=True): drop specials, then let
  // sentencepiece join the rest (bytes from <0xNN> pieces, first piece's "▁" dropped).
  const int32_t n = vocab_size();
  std::vector<int> kept;
  kept.reserve(ids.size());
  for (int32_t id : ids) {
    if (id < 0 || id >= n) continue;
    if (id == bos_id() || id == eos_id() || id == pad_id()) continue;
    kept.push_back(id);
  }
  std::string text;
  if (!sp_->Decode(kept, &text).ok()) return {};
  return text;
}

int32_t SentencePieceTokenizer::vocab_size() const { return sp_->GetPieceSize(); }
int32_t SentencePieceTokenizer::bos_id() const { return sp_->bos_id(); }
int32_t SentencePieceTokenizer::eos_id() const { return sp_->eos_id(); }
int32_t SentencePieceTokenizer::unk_id() const { return sp_->unk_id(); }
int32_t SentencePieceTokenizer::pad_id() const { return sp_->pad_id(); }

int32_t SentencePieceTokenizer::token_id(std::string_view text) const {
  // PieceToId answers unk_id for unknown pieces; tell those apart from "<unk>" itself.
  const int id = sp_->PieceToId(absl::string_view(text.data(), text.size()));
  if (id == unk_id() && piece(id) != text) return -1;
  return id;
}

bool SentencePieceTokenizer::is_special(int32_t id) const { return id >= 0 && id < vocab_size() && sp_->IsControl(id); }

std::string SentencePieceTokenizer::piece(int32_t id) const {
  if (id < 0 || id >= vocab_size()) return {};
  return sp_->IdToPiece(id);
}

}  // namespace peft
