// Regex-equivalent scanners for the LLM-Adapters answer-extraction rules.
#include "eval/extract.h"

#include <cmath>
#include <cstdlib>
#include <limits>

namespace peft {

Extraction extract_number(std::string_view output, double label) {
  std::string s;
  s.reserve(output.size());
  for (char c : output)
    if (c != ',') s += c;
  Extraction e;
  auto nums = find_numbers(s);
  double pred = std::numeric_limits<double>::infinity();
  if (!nums.empty()) {
    e.parsed = true;
    e.extracted = nums.back();
    pred = std::strtod(e.extracted.c_str(), nullptr);
  }
  e.correct = e.parsed && std::fabs(label - pred) <= 0.001;
  return e;
}

std::string extract_letter(std::string_view output) {
  for (char c : strip_ws(output))
    if (c >= 'A' && c <= 'E') return std::string(1, c);
  return "";
}

std::string extract_word(std::string_view output, const std::vector<std::string>& words) {
  std::string_view s = strip_ws(output);
  for (size_t i = 0; i < s.size(); ++i)
    for (const auto& w : words)
      if (s.compare(i, w.size(), w) == 0) return w;
  return "";
}

Result<Extraction> score_output(const EvalTask& task, std::string_view output, const std::string& label) {
  if (task.kind == AnswerKind::Number) {
    // float(label): Python accepts surrounding whitespace, nothing else.
    std::string_view l = strip_ws(label);
    std::string ls(l);
    char* end = nullptr;
    double v = ls.empty() ? 0 : std::strtod(ls.c_str(), &end);
    if (ls.empty() || end != ls.c_str() + ls.size()) return Status::errorf("label '{}' is not a number", label);
    return extract_number(output, v);
  }
  Extraction e;
  e.extracted = task.kind == AnswerKind::Letter ? extract_letter(output) : extract_word(output, task.words);
  e.parsed = !e.extracted.empty();
  e.correct = e.parsed && e.extracted == label;
  return e;
}

}  // namespace peft
