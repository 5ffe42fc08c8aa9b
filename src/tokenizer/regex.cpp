// PCRE2 wrapper: compile once (with JIT), then list matches without per-call UTF re-checks.
#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizer/regex.h"

#include <pcre2.h>

#include "tokenizer/utf8.h"

namespace peft {

struct Regex::Code {
  pcre2_code* code = nullptr;
  ~Code() { pcre2_code_free(code); }
};

namespace {

// Per-thread match state: a JIT stack larger than PCRE2's 32 KiB default so long runs of
// whitespace or letters never hit the stack limit, plus the context that points at it.
struct MatchScratch {
  pcre2_jit_stack* stack = nullptr;
  pcre2_match_context* context = nullptr;
  MatchScratch() {
    stack = pcre2_jit_stack_create(64 * 1024, 8 * 1024 * 1024, nullptr);
    context = pcre2_match_context_create(nullptr);
    if (stack && context) pcre2_jit_stack_assign(context, nullptr, stack);
  }
  ~MatchScratch() {
    pcre2_match_context_free(context);
    pcre2_jit_stack_free(stack);
  }
};

// Hugging Face compiles its patterns with Oniguruma, where a character class may nest
// another ("[^(\s|[.,!?])]" in BLOOM's tokenizer.json: the union of both). PCRE2 reads
// the inner '[' as a literal and the first ']' as the end, so flatten nested,
// non-negated classes into their parent (a nested negated one has no flat form: false).
// Everything else passes through unchanged.
bool flatten_nested_classes(std::string_view p, std::string& out) {
  out.reserve(p.size());
  int depth = 0;  // character-class nesting at position i; only depth 1 brackets are written
  for (size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      out += c;
      out += p[++i];
    } else if (c == '[' && depth > 0 && i + 1 < p.size() && p[i + 1] == ':' &&
               p.find(":]", i + 2) != std::string_view::npos) {
      const size_t end = p.find(":]", i + 2);  // [:alpha:] stays as it is
      out.append(p.substr(i, end + 2 - i));
      i = end + 1;
    } else if (c == '[') {
      const bool negated = i + 1 < p.size() && p[i + 1] == '^';
      if (negated && depth > 0) return false;
      if (depth == 0) out.append(negated ? "[^" : "[");
      ++depth;
      i += negated ? 1 : 0;
      // A ']' right after '[' or '[^' is a member, not the end.
      if (i + 1 < p.size() && p[i + 1] == ']') out += p[++i];
    } else if (c == ']' && depth > 0) {
      if (--depth == 0) out += c;
    } else {
      out += c;
    }
  }
  return true;
}

}  // namespace

Result<Regex> Regex::compile(std::string_view source, const std::string& where) {
  std::string pattern;
  if (!flatten_nested_classes(source, pattern)) {
    return Status::errorf("{}: regex '{}' nests a negated character class, which PCRE2 cannot express", where, source);
  }
  int error = 0;
  PCRE2_SIZE offset = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), PCRE2_UTF | PCRE2_UCP,
                                   &error, &offset, nullptr);
  if (!code) {
    PCRE2_UCHAR buffer[256];
    pcre2_get_error_message(error, buffer, sizeof(buffer));
    return Status::errorf("{}: invalid regex '{}' at offset {}: {}", where, source, size_t(offset),
                          reinterpret_cast<const char*>(buffer));
  }
  // JIT is an optimisation only: without it pcre2_match interprets the pattern.
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
  auto owned = std::make_shared<Code>();
  owned->code = code;
  Regex r;
  r.code_ = std::move(owned);
  r.pattern_ = std::string(source);
  return r;
}

std::vector<std::pair<size_t, size_t>> Regex::find_all(std::string_view text) const {
  thread_local MatchScratch scratch;
  std::vector<std::pair<size_t, size_t>> out;
  pcre2_match_data* md = pcre2_match_data_create_from_pattern(code_->code, nullptr);
  if (!md) return out;
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t start = 0;
  while (start <= text.size()) {
    // The caller guarantees valid UTF-8, so skip PCRE2's check (it would rescan the
    // rest of the subject on every call, quadratic on long texts).
    int rc = pcre2_match(code_->code, subject, text.size(), start, PCRE2_NO_UTF_CHECK, md, scratch.context);
    if (rc < 0) break;  // PCRE2_ERROR_NOMATCH, or a resource limit: no further matches
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
    const size_t b = ov[0], e = ov[1];
    out.emplace_back(b, e);
    if (e > b) {
      start = e;
    } else {
      if (e >= text.size()) break;
      start = e + utf8::char_len(text, e);
    }
  }
  pcre2_match_data_free(md);
  return out;
}

}  // namespace peft
