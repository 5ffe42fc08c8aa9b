// GPT-2's byte <-> printable-unicode map: byte-level BPE vocabularies spell bytes this way.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace peft {

// The UTF-8 of the character standing for byte `b` ('Ġ' for 0x20, 'Ċ' for 0x0A, 'a' for 'a').
const std::string& byte_level_char(uint8_t b);

// Every byte of `bytes` replaced by its character (any bytes, valid UTF-8 or not).
std::string to_byte_level(std::string_view bytes);

// Inverse, appended to `out`: characters of the map become their bytes; any other character
// (an added token such as "<|im_start|>" spelled outside the map) is kept as its UTF-8.
void append_from_byte_level(std::string_view text, std::string& out);

}  // namespace peft
