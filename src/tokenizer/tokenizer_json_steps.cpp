// Reads the normalizer / pre_tokenizer / decoder parts of tokenizer.json into step lists.
#include "tokenizer/tokenizer_json_steps.h"

namespace peft {
namespace {

constexpr const char* kNormalizers = "NFC, NFD, NFKC, NFKD, Prepend, Replace, Lowercase, Strip, Sequence";
constexpr const char* kPreTokenizers =
    "ByteLevel, Split, Digits, Metaspace, Whitespace, WhitespaceSplit, Punctuation, Sequence";
constexpr const char* kDecoders = "ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace, Sequence";

Result<std::string> type_of(const Json& j, const std::string& path, const char* part) {
  if (!j.is_object()) return Status::errorf("{}: {} must be an object or null", path, part);
  return json_get_string(j, "type", path + ": " + part);
}

Result<const Json*> array_field(const Json& j, const char* key, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_array()) return Status::errorf("{}: field '{}' must be an array", where, key);
  return &*it;
}

Result<SplitBehavior> parse_behavior(const Json& j, const std::string& where) {
  PEFT_ASSIGN_OR_RETURN(std::string b, json_get_string_or(j, "behavior", "Isolated", where));
  if (b == "Removed") return SplitBehavior::Removed;
  if (b == "Isolated") return SplitBehavior::Isolated;
  if (b == "MergedWithPrevious") return SplitBehavior::MergedWithPrevious;
  if (b == "MergedWithNext") return SplitBehavior::MergedWithNext;
  if (b == "Contiguous") return SplitBehavior::Contiguous;
  return Status::errorf(
      "{}: unknown split behavior '{}' (known: Removed, Isolated, MergedWithPrevious, "
      "MergedWithNext, Contiguous)",
      where, b);
}

// Metaspace's prepend_scheme, or the older add_prefix_space flag it replaced.
Result<PreTokenizerStep::Prepend> parse_prepend_scheme(const Json& j, const std::string& where) {
  PEFT_ASSIGN_OR_RETURN(bool add_prefix_space, json_get_bool_or(j, "add_prefix_space", true, where));
  PEFT_ASSIGN_OR_RETURN(std::string scheme,
                        json_get_string_or(j, "prepend_scheme", add_prefix_space ? "always" : "never", where));
  if (scheme == "always") return PreTokenizerStep::Prepend::Always;
  if (scheme == "first") return PreTokenizerStep::Prepend::First;
  if (scheme == "never") return PreTokenizerStep::Prepend::Never;
  return Status::errorf("{}: unknown prepend_scheme '{}' (known: always, first, never)", where, scheme);
}

PreTokenizerStep regex_split(const char* pattern, SplitBehavior behavior, bool invert = false) {
  PreTokenizerStep s;
  s.kind = PreTokenizerStep::Kind::Split;
  s.pattern = {pattern, true};
  s.behavior = behavior;
  s.invert = invert;
  return s;
}

}  // namespace

Result<PatternSpec> parse_pattern(const Json& j, const std::string& where) {
  auto it = j.find("pattern");
  if (it == j.end()) return Status::errorf("{}: field 'pattern' missing", where);
  if (it->is_string()) return PatternSpec{it->get<std::string>(), false};
  if (it->is_object() && it->contains("String") && (*it)["String"].is_string())
    return PatternSpec{(*it)["String"].get<std::string>(), false};
  if (it->is_object() && it->contains("Regex") && (*it)["Regex"].is_string())
    return PatternSpec{(*it)["Regex"].get<std::string>(), true};
  return Status::errorf("{}: field 'pattern' must be {{\"String\": ...}} or {{\"Regex\": ...}}", where);
}

Status parse_normalizer(const Json& j, const std::string& path, std::vector<NormalizerStep>& out) {
  if (j.is_null()) return Status::ok();
  PEFT_ASSIGN_OR_RETURN(std::string type, type_of(j, path, "normalizer"));
  const std::string where = path + ": normalizer " + type;
  NormalizerStep s;
  if (type == "Sequence") {
    PEFT_ASSIGN_OR_RETURN(const Json* list, array_field(j, "normalizers", where));
    for (const Json& item : *list) PEFT_TRY(parse_normalizer(item, path, out));
    return Status::ok();
  } else if (type == "NFC") {
    s.kind = NormalizerStep::Kind::Nfc;
  } else if (type == "NFD") {
    s.kind = NormalizerStep::Kind::Nfd;
  } else if (type == "NFKC") {
    s.kind = NormalizerStep::Kind::Nfkc;
  } else if (type == "NFKD") {
    s.kind = NormalizerStep::Kind::Nfkd;
  } else if (type == "Prepend") {
    s.kind = NormalizerStep::Kind::Prepend;
    PEFT_ASSIGN_OR_RETURN(s.prepend, json_get_string(j, "prepend", where));
  } else if (type == "Replace") {
    s.kind = NormalizerStep::Kind::Replace;
    PEFT_ASSIGN_OR_RETURN(s.pattern, parse_pattern(j, where));
    PEFT_ASSIGN_OR_RETURN(s.content, json_get_string(j, "content", where));
  } else if (type == "Lowercase") {
    s.kind = NormalizerStep::Kind::Lowercase;
  } else if (type == "Strip") {
    s.kind = NormalizerStep::Kind::Strip;
    PEFT_ASSIGN_OR_RETURN(s.strip_left, json_get_bool_or(j, "strip_left", true, where));
    PEFT_ASSIGN_OR_RETURN(s.strip_right, json_get_bool_or(j, "strip_right", true, where));
  } else {
    return Status::errorf("{}: unsupported normalizer type '{}' (supported: {})", path, type, kNormalizers);
  }
  out.push_back(std::move(s));
  return Status::ok();
}

Status parse_pre_tokenizer(const Json& j, const std::string& path, std::vector<PreTokenizerStep>& out) {
  if (j.is_null()) return Status::ok();
  PEFT_ASSIGN_OR_RETURN(std::string type, type_of(j, path, "pre_tokenizer"));
  const std::string where = path + ": pre_tokenizer " + type;
  PreTokenizerStep s;
  if (type == "Sequence") {
    PEFT_ASSIGN_OR_RETURN(const Json* list, array_field(j, "pretokenizers", where));
    for (const Json& item : *list) PEFT_TRY(parse_pre_tokenizer(item, path, out));
    return Status::ok();
  } else if (type == "ByteLevel") {
    s.kind = PreTokenizerStep::Kind::ByteLevel;
    PEFT_ASSIGN_OR_RETURN(s.add_prefix_space, json_get_bool_or(j, "add_prefix_space", true, where));
    PEFT_ASSIGN_OR_RETURN(s.use_regex, json_get_bool_or(j, "use_regex", true, where));
  } else if (type == "Split") {
    s.kind = PreTokenizerStep::Kind::Split;
    PEFT_ASSIGN_OR_RETURN(s.pattern, parse_pattern(j, where));
    PEFT_ASSIGN_OR_RETURN(s.behavior, parse_behavior(j, where));
    PEFT_ASSIGN_OR_RETURN(s.invert, json_get_bool_or(j, "invert", false, where));
  } else if (type == "Digits") {
    // Hugging Face tests char::is_numeric, i.e. the Unicode N categories.
    PEFT_ASSIGN_OR_RETURN(bool individual, json_get_bool_or(j, "individual_digits", false, where));
    s = regex_split(R"(\p{N})", individual ? SplitBehavior::Isolated : SplitBehavior::Contiguous);
  } else if (type == "Metaspace") {
    s.kind = PreTokenizerStep::Kind::Metaspace;
    PEFT_ASSIGN_OR_RETURN(s.replacement, json_get_string_or(j, "replacement", s.replacement, where));
    PEFT_ASSIGN_OR_RETURN(s.prepend_scheme, parse_prepend_scheme(j, where));
    PEFT_ASSIGN_OR_RETURN(s.split, json_get_bool_or(j, "split", true, where));
  } else if (type == "Whitespace") {
    s = regex_split(R"(\w+|[^\w\s]+)", SplitBehavior::Removed, /*invert=*/true);
  } else if (type == "WhitespaceSplit") {
    s = regex_split(R"(\s+)", SplitBehavior::Removed);
  } else if (type == "Punctuation") {
    PEFT_ASSIGN_OR_RETURN(SplitBehavior b, parse_behavior(j, where));
    s = regex_split(R"([\p{P}!-/:-@\[-`{-~])", b);  // Unicode punctuation or ASCII punctuation
  } else {
    return Status::errorf("{}: unsupported pre_tokenizer type '{}' (supported: {})", path, type, kPreTokenizers);
  }
  out.push_back(std::move(s));
  return Status::ok();
}

Status parse_decoder(const Json& j, const std::string& path, std::vector<DecoderStep>& out) {
  if (j.is_null()) return Status::ok();
  PEFT_ASSIGN_OR_RETURN(std::string type, type_of(j, path, "decoder"));
  const std::string where = path + ": decoder " + type;
  DecoderStep s;
  if (type == "Sequence") {
    PEFT_ASSIGN_OR_RETURN(const Json* list, array_field(j, "decoders", where));
    for (const Json& item : *list) PEFT_TRY(parse_decoder(item, path, out));
    return Status::ok();
  } else if (type == "ByteLevel") {
    s.kind = DecoderStep::Kind::ByteLevel;
  } else if (type == "Replace") {
    s.kind = DecoderStep::Kind::Replace;
    PEFT_ASSIGN_OR_RETURN(s.pattern, parse_pattern(j, where));
    PEFT_ASSIGN_OR_RETURN(s.content, json_get_string(j, "content", where));
  } else if (type == "ByteFallback") {
    s.kind = DecoderStep::Kind::ByteFallback;
  } else if (type == "Fuse") {
    s.kind = DecoderStep::Kind::Fuse;
  } else if (type == "Strip") {
    s.kind = DecoderStep::Kind::Strip;
    PEFT_ASSIGN_OR_RETURN(s.content, json_get_string(j, "content", where));
    PEFT_ASSIGN_OR_RETURN(int64_t start, json_get_int_or(j, "start", 0, where));
    PEFT_ASSIGN_OR_RETURN(int64_t stop, json_get_int_or(j, "stop", 0, where));
    if (start < 0 || stop < 0 || start > 1000000 || stop > 1000000)
      return Status::errorf("{}: start/stop out of range", where);
    s.strip_start = int(start);
    s.strip_stop = int(stop);
  } else if (type == "Metaspace") {
    s.kind = DecoderStep::Kind::Metaspace;
    PEFT_ASSIGN_OR_RETURN(s.replacement, json_get_string_or(j, "replacement", s.replacement, where));
    PEFT_ASSIGN_OR_RETURN(PreTokenizerStep::Prepend scheme, parse_prepend_scheme(j, where));
    s.prepend = scheme != PreTokenizerStep::Prepend::Never;
  } else {
    return Status::errorf("{}: unsupported decoder type '{}' (supported: {})", path, type, kDecoders);
  }
  out.push_back(std::move(s));
  return Status::ok();
}

}  // namespace peft
