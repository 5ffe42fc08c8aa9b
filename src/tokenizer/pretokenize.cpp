// Pre-tokenizers as Hugging Face defines them: each step splits every current piece further.
#include "tokenizer/pretokenize.h"

#include "tokenizer/byte_level.h"
#include "tokenizer/utf8.h"

namespace peft {
namespace {

struct Piece {
  std::string text;
  bool at_start = false;  // begins at offset 0 of the original input
};

struct Span {
  size_t begin, end;
  bool is_match;
};

// Matches of `re` (or of the literal) and the gaps between them, covering all of `text`.
// Regexes run on the valid UTF-8 runs only; stray bytes stay in the gaps.
std::vector<Span> find_spans(std::string_view text, const PatternSpec& pattern, const Regex& re) {
  std::vector<std::pair<size_t, size_t>> matches;
  if (pattern.is_regex) {
    for (size_t run = 0; run < text.size();) {
      size_t end = run;
      while (end < text.size() && utf8::valid_char_len(text, end) != 0) end += utf8::valid_char_len(text, end);
      for (auto [b, e] : re.find_all(text.substr(run, end - run))) matches.emplace_back(run + b, run + e);
      run = end;
      while (run < text.size() && utf8::valid_char_len(text, run) == 0) ++run;
    }
  } else if (!pattern.text.empty()) {
    for (size_t pos = 0; (pos = text.find(pattern.text, pos)) != std::string_view::npos; pos += pattern.text.size())
      matches.emplace_back(pos, pos + pattern.text.size());
  }
  std::vector<Span> spans;
  size_t prev = 0;
  for (auto [b, e] : matches) {
    if (prev != b) spans.push_back({prev, b, false});
    spans.push_back({b, e, true});
    prev = e;
  }
  if (prev != text.size()) spans.push_back({prev, text.size(), false});
  return spans;
}

// Hugging Face's NormalizedString::split: fold matches into pieces per `behavior`; the
// bool marks pieces to drop (Removed matches).
std::vector<Span> apply_behavior(std::vector<Span> spans, SplitBehavior behavior, bool invert) {
  if (invert)
    for (Span& s : spans) s.is_match = !s.is_match;
  std::vector<Span> out;
  bool previous_match = false;
  switch (behavior) {
    case SplitBehavior::Removed:
      return spans;
    case SplitBehavior::Isolated:
      for (Span& s : spans) out.push_back({s.begin, s.end, false});
      return out;
    case SplitBehavior::Contiguous:
      for (const Span& s : spans) {
        if (s.is_match == previous_match && !out.empty())
          out.back().end = s.end;
        else
          out.push_back({s.begin, s.end, false});
        previous_match = s.is_match;
      }
      return out;
    case SplitBehavior::MergedWithPrevious:
      for (const Span& s : spans) {
        if (s.is_match && !previous_match && !out.empty())
          out.back().end = s.end;
        else
          out.push_back({s.begin, s.end, false});
        previous_match = s.is_match;
      }
      return out;
    case SplitBehavior::MergedWithNext:
      for (auto it = spans.rbegin(); it != spans.rend(); ++it) {
        if (it->is_match && !previous_match && !out.empty())
          out.back().begin = it->begin;
        else
          out.push_back({it->begin, it->end, false});
        previous_match = it->is_match;
      }
      return {out.rbegin(), out.rend()};
  }
  return spans;
}

void split_piece(const Piece& piece, const PatternSpec& pattern, const Regex& re, SplitBehavior behavior, bool invert,
                 std::vector<Piece>& out) {
  for (const Span& s : apply_behavior(find_spans(piece.text, pattern, re), behavior, invert)) {
    if (s.is_match || s.end == s.begin) continue;  // Removed, or empty
    out.push_back({piece.text.substr(s.begin, s.end - s.begin), piece.at_start && s.begin == 0});
  }
}

}  // namespace

Result<PreTokenizer> PreTokenizer::build(const std::vector<PreTokenizerStep>& steps, const std::string& where) {
  PreTokenizer p;
  for (const PreTokenizerStep& s : steps) {
    Step step{s, {}};
    if (s.kind == PreTokenizerStep::Kind::Split && s.pattern.is_regex) {
      PEFT_ASSIGN_OR_RETURN(step.regex, Regex::compile(s.pattern.text, where));
    } else if (s.kind == PreTokenizerStep::Kind::ByteLevel && s.use_regex) {
      PEFT_ASSIGN_OR_RETURN(step.regex, Regex::compile(kGpt2Pattern, where));
    }
    p.steps_.push_back(std::move(step));
  }
  return p;
}

void PreTokenizer::apply(std::string_view segment, bool at_start, std::vector<std::string>& out) const {
  std::vector<Piece> pieces{{std::string(segment), at_start}}, next;
  for (const Step& step : steps_) {
    const PreTokenizerStep& s = step.spec;
    next.clear();
    for (Piece& piece : pieces) {
      switch (s.kind) {
        case PreTokenizerStep::Kind::Split:
          split_piece(piece, s.pattern, step.regex, s.behavior, s.invert, next);
          break;
        case PreTokenizerStep::Kind::ByteLevel: {
          if (s.add_prefix_space && !piece.text.starts_with(' ')) piece.text.insert(0, " ");
          const size_t first = next.size();
          if (s.use_regex)
            split_piece(piece, {"", true}, step.regex, SplitBehavior::Isolated, false, next);
          else
            next.push_back(std::move(piece));
          for (size_t i = first; i < next.size(); ++i) next[i].text = to_byte_level(next[i].text);
          break;
        }
        case PreTokenizerStep::Kind::Metaspace: {
          std::string text;
          for (char c : piece.text) {
            if (c == ' ')
              text += s.replacement;
            else
              text += c;
          }
          const bool prepend = s.prepend_scheme == PreTokenizerStep::Prepend::Always ||
                               (s.prepend_scheme == PreTokenizerStep::Prepend::First && piece.at_start);
          if (prepend && !text.starts_with(s.replacement)) text.insert(0, s.replacement);
          Piece replaced{std::move(text), piece.at_start};
          if (s.split)
            split_piece(replaced, {s.replacement, false}, step.regex, SplitBehavior::MergedWithNext, false, next);
          else
            next.push_back(std::move(replaced));
          break;
        }
      }
    }
    pieces.swap(next);
  }
  for (Piece& p : pieces)
    if (!p.text.empty()) out.push_back(std::move(p.text));
}

}  // namespace peft
