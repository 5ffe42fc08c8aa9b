// GPT-2's bytes_to_unicode(): printable Latin-1 bytes map to themselves, the other 68 bytes
// to U+0100.. in byte order, so every byte string becomes printable text.
#include "tokenizer/byte_level.h"

#include <array>

#include "tokenizer/utf8.h"

namespace peft {
namespace {

struct Tables {
  std::array<std::string, 256> byte_to_char;
  std::array<int16_t, 324> char_to_byte;  // code point -> byte, -1 when not in the map
  Tables() {
    char_to_byte.fill(-1);
    auto printable = [](int b) {
      return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    };
    int next = 256;
    for (int b = 0; b < 256; ++b) {
      const int cp = printable(b) ? b : next++;
      utf8::append(byte_to_char[b], uint32_t(cp));
      char_to_byte[cp] = int16_t(b);
    }
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

}  // namespace

const std::string& byte_level_char(uint8_t b) { return tables().byte_to_char[b]; }

std::string to_byte_level(std::string_view bytes) {
  const Tables& t = tables();
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) out += t.byte_to_char[static_cast<unsigned char>(c)];
  return out;
}

void append_from_byte_level(std::string_view text, std::string& out) {
  const Tables& t = tables();
  for (size_t i = 0; i < text.size();) {
    const size_t n = utf8::valid_char_len(text, i);
    if (n == 0) {  // not UTF-8 at all: keep the byte
      out += text[i++];
      continue;
    }
    const uint32_t cp = utf8::decode(text, i);
    if (cp < t.char_to_byte.size() && t.char_to_byte[cp] >= 0) {
      out += char(t.char_to_byte[cp]);
    } else {
      out.append(text.substr(i, n));
    }
    i += n;
  }
}

}  // namespace peft
