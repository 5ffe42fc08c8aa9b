// Decoders as Hugging Face chains them: each step maps the list of token strings.
#include "tokenizer/decoder.h"

#include "tokenizer/byte_level.h"

namespace peft {
namespace {

// "<0x0A>" -> 10; -1 for anything else.
int byte_token_value(const std::string& t) {
  if (t.size() != 6 || !t.starts_with("<0x") || t[5] != '>') return -1;
  int v = 0;
  for (int k = 3; k < 5; ++k) {
    const char c = t[k];
    const int d = c >= '0' && c <= '9'   ? c - '0'
                  : c >= 'A' && c <= 'F' ? c - 'A' + 10
                  : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                         : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

std::vector<std::string> byte_fallback(std::vector<std::string> tokens) {
  std::vector<std::string> out;
  std::string bytes;
  for (std::string& t : tokens) {
    const int b = byte_token_value(t);
    if (b >= 0) {
      bytes += char(b);
      continue;
    }
    if (!bytes.empty()) out.push_back(std::move(bytes));
    bytes.clear();
    out.push_back(std::move(t));
  }
  if (!bytes.empty()) out.push_back(std::move(bytes));
  return out;
}

// Removes up to `start` leading and `stop` trailing copies of `content` from each token.
void strip_tokens(std::vector<std::string>& tokens, const std::string& content, int start, int stop) {
  if (content.empty()) return;
  for (std::string& t : tokens) {
    size_t b = 0, e = t.size();
    for (int k = 0; k < start && e - b >= content.size() && t.compare(b, content.size(), content) == 0; ++k)
      b += content.size();
    for (int k = 0; k < stop && e - b >= content.size() && t.compare(e - content.size(), content.size(), content) == 0;
         ++k)
      e -= content.size();
    t = t.substr(b, e - b);
  }
}

}  // namespace

Result<Decoder> Decoder::build(const std::vector<DecoderStep>& steps, bool has_decoder, const std::string& where) {
  Decoder d;
  d.has_decoder_ = has_decoder;
  for (const DecoderStep& s : steps) {
    Step step{s, {}};
    if (s.kind == DecoderStep::Kind::Replace) {
      PEFT_ASSIGN_OR_RETURN(step.replace, Replacer::build(s.pattern, s.content, where));
    }
    d.steps_.push_back(std::move(step));
  }
  return d;
}

std::string Decoder::decode(std::vector<std::string> tokens) const {
  for (const Step& step : steps_) {
    const DecoderStep& s = step.spec;
    switch (s.kind) {
      case DecoderStep::Kind::ByteLevel: {
        std::string bytes;
        for (const std::string& t : tokens) append_from_byte_level(t, bytes);
        tokens.assign(1, std::move(bytes));
        break;
      }
      case DecoderStep::Kind::Replace:
        for (std::string& t : tokens) t = step.replace.apply(t);
        break;
      case DecoderStep::Kind::ByteFallback:
        tokens = byte_fallback(std::move(tokens));
        break;
      case DecoderStep::Kind::Fuse: {
        std::string all;
        for (const std::string& t : tokens) all += t;
        tokens.assign(1, std::move(all));
        break;
      }
      case DecoderStep::Kind::Strip:
        strip_tokens(tokens, s.content, s.strip_start, s.strip_stop);
        break;
      case DecoderStep::Kind::Metaspace:
        // Hugging Face drops every marker of the first token (the prepended one) and turns
        // the others into spaces.
        for (size_t i = 0; i < tokens.size(); ++i) {
          std::string out;
          const std::string& t = tokens[i];
          for (size_t p = 0; p < t.size();) {
            if (!s.replacement.empty() && t.compare(p, s.replacement.size(), s.replacement) == 0) {
              if (!(i == 0 && s.prepend)) out += ' ';
              p += s.replacement.size();
            } else {
              out += t[p++];
            }
          }
          tokens[i] = std::move(out);
        }
        break;
    }
  }
  std::string text;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (!has_decoder_ && i > 0) text += ' ';
    text += tokens[i];
  }
  return text;
}

}  // namespace peft
