// SentencePiece tokenizer: a thin wrapper over libsentencepiece that never throws.
#include "tokenizer/sentencepiece_tokenizer.h"

#include <sentencepiece_processor.h>

#include <fmt/format.h>

#include <fstream>
#include <iterator>

namespace peft {

namespace {

// Protobuf wire format: a varint at data[pos], advancing pos; false when truncated.
bool read_varint(std::string_view data, size_t& pos, uint64_t& value) {
  value = 0;
  for (int shift = 0; shift < 64 && pos < data.size(); shift += 7) {
    const uint8_t b = uint8_t(data[pos++]);
    value |= uint64_t(b & 0x7f) << shift;
    if (!(b & 0x80)) return true;
  }
  return false;
}

// Walks one message's fields; for each length-delimited field calls on_bytes(field, bytes).
// Returns an error text for a malformed message, empty when it is well formed.
template <typename OnBytes>
std::string walk_fields(std::string_view msg, OnBytes&& on_bytes) {
  size_t pos = 0;
  while (pos < msg.size()) {
    uint64_t key = 0, v = 0;
    if (!read_varint(msg, pos, key)) return "a truncated field key";
    switch (key & 7) {
      case 0:
        if (!read_varint(msg, pos, v)) return "a truncated varint";
        break;
      case 1:
        if (msg.size() - pos < 8) return "a truncated 64-bit field";
        pos += 8;
        break;
      case 5:
        if (msg.size() - pos < 4) return "a truncated 32-bit field";
        pos += 4;
        break;
      case 2: {
        if (!read_varint(msg, pos, v) || v > msg.size() - pos) return "a truncated length-delimited field";
        if (std::string err = on_bytes(key >> 3, msg.substr(pos, size_t(v))); !err.empty()) return err;
        pos += size_t(v);
        break;
      }
      default:
        return "an unknown wire type";
    }
  }
  return "";
}

// What libsentencepiece does not check before building its trie (Darts aborts the process on
// a zero-length key, and its keys end at the first NUL): every piece (ModelProto field 1, SentencePiece field 1) is
// non-empty.
std::string check_pieces(std::string_view proto) {
  int64_t index = 0;
  return walk_fields(proto, [&](uint64_t field, std::string_view bytes) -> std::string {
    if (field != 1) return "";
    bool has_text = false;
    std::string err = walk_fields(bytes, [&](uint64_t f, std::string_view text) -> std::string {
      if (f == 1) has_text = !text.empty() && text.find('\0') == std::string_view::npos;  // Darts keys are C strings
      return "";
    });
    if (!err.empty()) return fmt::format("piece {}: {}", index, err);
    if (!has_text) return fmt::format("piece {} is empty or holds a NUL byte", index);
    ++index;
    return "";
  });
}

}  // namespace

Result<std::unique_ptr<SentencePieceTokenizer>> SentencePieceTokenizer::load(const std::string& path) {
  // Read the bytes ourselves so a missing file and a corrupt file get distinct messages.
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::errorf("{}: cannot open tokenizer file", path);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return Status::errorf("{}: read error", path);

  std::unique_ptr<SentencePieceTokenizer> tok(new SentencePieceTokenizer());
  tok->sp_ = std::make_unique<sentencepiece::SentencePieceProcessor>();
  tok->path_ = path;
  if (std::string err = check_pieces(bytes); !err.empty())
    return Status::errorf("{}: not a SentencePiece model ({})", path, err);
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
