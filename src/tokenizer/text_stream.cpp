// TextStream: emit the growth of the decoded text, holding back a trailing U+FFFD run.
#include "tokenizer/text_stream.h"

namespace peft {

namespace {
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD in UTF-8

// `text` without its trailing run of U+FFFD: what a later byte can no longer change.
std::string_view settled(std::string_view text) {
  while (text.size() >= kReplacement.size() && text.ends_with(kReplacement)) text.remove_suffix(kReplacement.size());
  return text;
}
}  // namespace

TextStream::TextStream(const Tokenizer& tokenizer, std::vector<int32_t> prefix)
    : tok_(tokenizer), ids_(std::move(prefix)), emitted_(settled(tok_.decode(ids_))) {}

std::string TextStream::push(int32_t id) {
  ids_.push_back(id);
  const std::string full = tok_.decode(ids_);
  const std::string_view ready = settled(full);
  if (ready.size() <= emitted_.size() || ready.compare(0, emitted_.size(), emitted_) != 0) return {};
  std::string piece(ready.substr(emitted_.size()));
  emitted_ = std::string(ready);
  return piece;
}

std::string TextStream::finish() {
  const std::string full = tok_.decode(ids_);
  if (full.size() <= emitted_.size() || full.compare(0, emitted_.size(), emitted_) != 0) return {};
  std::string piece = full.substr(emitted_.size());
  emitted_ = full;
  return piece;
}

}  // namespace peft
