// GLUE rows → head examples.
#include "data/classifier_examples.h"

#include <algorithm>

#include "data/tokenize_example.h"

namespace peft {

Status check_head_fits(const TaskSpec& head, const VerbalTask& task, const std::string& where) {
  if (head.task != TaskType::SeqCls)
    return Status::errorf("{}: a {} file trains a sequence-classification head, but the model's head is {}", where,
                          task.name, task_type_name(head.task));
  if (task.kind == VerbalKind::Score) {
    if (head.problem != ProblemType::Regression || head.num_labels != 1)
      return Status::errorf(
          "{}: stsb is a regression task (one output), but the model's head is {} with {} labels: use a checkpoint "
          "whose config.json says num_labels 1 (problem_type regression)",
          where, problem_type_name(head.problem), head.num_labels);
    return Status::ok();
  }
  const int64_t classes = int64_t(task.label_names.size());
  if (head.problem != ProblemType::SingleLabel || head.num_labels != classes)
    return Status::errorf(
        "{}: {} has {} classes, but the model's head is {} with {} labels: use a checkpoint whose config.json says "
        "num_labels {} (single_label_classification)",
        where, task.name, classes, problem_type_name(head.problem), head.num_labels, classes);
  return Status::ok();
}

namespace {
// Cuts `e` (the template's output) to max_len ids the way transformers' "longest_first"
// truncation does: one token at a time from the end of the longer text; the template's special
// tokens (sequence id −1) stay.
bool truncate_longest_first(PairEncoding& e, int64_t max_len) {
  if (int64_t(e.ids.size()) <= max_len) return false;
  int64_t keep[2] = {0, 0};
  for (int8_t s : e.sequence_ids)
    if (s == 0 || s == 1) ++keep[s];
  for (int64_t excess = int64_t(e.ids.size()) - max_len; excess > 0; --excess) --keep[keep[0] >= keep[1] ? 0 : 1];
  PairEncoding out;
  int64_t taken[2] = {0, 0};
  for (size_t i = 0; i < e.ids.size(); ++i) {
    const int s = e.sequence_ids[i];
    if (s == 0 || s == 1) {
      if (taken[s] >= keep[s]) continue;
      ++taken[s];
    }
    out.ids.push_back(e.ids[i]);
    out.type_ids.push_back(e.type_ids[i]);
    out.sequence_ids.push_back(e.sequence_ids[i]);
  }
  e = std::move(out);
  return true;
}

// One text through the single-sentence template: its ids are encode(text, false), found inside
// encode(text, true) (BERT: [CLS] text [SEP]); the rest is the template's.
PairEncoding encode_single(const Tokenizer& tok, const std::string& text) {
  PairEncoding e;
  e.ids = tok.encode(text, true);
  const std::vector<int32_t> bare = tok.encode(text, false);
  e.type_ids.assign(e.ids.size(), 0);
  e.sequence_ids.assign(e.ids.size(), -1);
  auto at = std::search(e.ids.begin(), e.ids.end(), bare.begin(), bare.end());
  if (at != e.ids.end() || bare.empty()) {
    const size_t start = size_t(at - e.ids.begin());
    for (size_t i = 0; i < bare.size(); ++i) e.sequence_ids[start + i] = 0;
  }
  return e;
}
}  // namespace

Result<TokenizedExample> classifier_example(const Tokenizer& tok, const VerbalRow& row, int64_t max_len,
                                            const std::string& where) {
  PairEncoding enc =
      row.text_b.empty() ? encode_single(tok, row.text_a) : tok.encode_pair(row.text_a, row.text_b, true);
  const int64_t specials = std::count(enc.sequence_ids.begin(), enc.sequence_ids.end(), int8_t(-1));
  if (specials >= max_len)
    return Status::errorf("{}: --cutoff-len {} leaves no room for the text beside {} special tokens", where, max_len,
                          specials);
  const bool truncated = truncate_longest_first(enc, max_len);
  TokenizedExample e;
  e.ids = std::move(enc.ids);
  e.token_types = std::move(enc.type_ids);
  e.labels.assign(e.ids.size(), kIgnoreLabel);
  e.task_labels = {float(row.label)};
  e.truncated = truncated;
  return e;
}

Result<std::vector<TokenizedExample>> classifier_examples(const Tokenizer& tok, const VerbalFile& file,
                                                          const TaskSpec& head, int64_t max_len,
                                                          const std::string& name) {
  PEFT_TRY(check_head_fits(head, *file.task, name));
  std::vector<TokenizedExample> out;
  out.reserve(file.rows.size());
  for (const VerbalRow& row : file.rows) {
    PEFT_ASSIGN_OR_RETURN(TokenizedExample e,
                          classifier_example(tok, row, max_len, fmt::format("{}: line {}", name, row.line)));
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace peft
