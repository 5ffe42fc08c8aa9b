// The GLUE / E2E task table, label → output verbalisers and output → label readers.
#include "data/verbalisers.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "core/text.h"

namespace peft {

namespace {
// Instructions name the answer words, as LLM-Adapters' "Answer format: true/false" does, so a
// model that follows instructions could answer before any fine-tuning. RTE's words are yes/no
// rather than its label names: short, common words a small vocabulary holds in one or two
// pieces, where "not_entailment" would be many.
const std::vector<VerbalTask>& tasks() {
  static const std::vector<VerbalTask> t = {
      {"sst2",
       VerbalKind::Class,
       "Is the sentiment of this sentence positive or negative?",
       {"negative", "positive"},
       {"0", "1"},
       8},
      {"cola",
       VerbalKind::Class,
       "Is this sentence grammatically acceptable or unacceptable?",
       {"unacceptable", "acceptable"},
       {"0", "1"},
       8},
      {"rte",
       VerbalKind::Class,
       "Does the premise entail the hypothesis? Answer yes or no.",
       {"yes", "no"},
       {"entailment", "not_entailment"},
       8},
      {"stsb",
       VerbalKind::Score,
       "How similar in meaning are the two sentences, from 0.0 (unrelated) to 5.0 (the same meaning)?",
       {},
       {},
       8},
      // The other GLUE tasks (layouts as download_glue_data.py writes them; MNLI's label order is
      // that of the Hugging Face glue/mnli dataset AdaMix's run_glue.py loads).
      {"mrpc",
       VerbalKind::Class,
       "Do the two sentences mean the same thing? Answer yes or no.",
       {"no", "yes"},
       {"0", "1"},
       8},
      {"qqp",
       VerbalKind::Class,
       "Do the two questions ask the same thing? Answer yes or no.",
       {"no", "yes"},
       {"0", "1"},
       8},
      {"qnli",
       VerbalKind::Class,
       "Does the sentence answer the question? Answer yes or no.",
       {"yes", "no"},
       {"entailment", "not_entailment"},
       8},
      {"mnli",
       VerbalKind::Class,
       "Does the premise entail the hypothesis? Answer yes, maybe or no.",
       {"yes", "maybe", "no"},
       {"entailment", "neutral", "contradiction"},
       8},
      {"wnli",
       VerbalKind::Class,
       "Does the second sentence follow from the first? Answer yes or no.",
       {"no", "yes"},
       {"0", "1"},
       8},
      // E2E references run to ~25 words; 64 tokens cover most of them with a GPT-2-sized vocabulary.
      {"e2e",
       VerbalKind::Text,
       "Write one sentence that describes the restaurant with every attribute of the meaning representation.",
       {},
       {},
       64},
      // AdaMix's other NLG sets: RDF triples "subject : property : object | ..." to one text.
      {"webnlg", VerbalKind::Text, "Write text that expresses every triple.", {}, {}, 64},
      {"dart", VerbalKind::Text, "Write text that expresses every triple.", {}, {}, 64},
  };
  return t;
}

char lower(char c) { return char(std::tolower(static_cast<unsigned char>(c))); }
bool word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Position of the first whole-word, case-insensitive occurrence of `word` (lower case), or npos.
size_t find_word(std::string_view text, std::string_view word) {
  for (size_t i = 0; i + word.size() <= text.size(); ++i) {
    if (i > 0 && word_char(text[i - 1])) continue;
    const size_t end = i + word.size();
    if (end < text.size() && word_char(text[end])) continue;
    bool eq = true;
    for (size_t k = 0; k < word.size() && eq; ++k) eq = lower(text[i + k]) == word[k];
    if (eq) return i;
  }
  return std::string_view::npos;
}
}  // namespace

const VerbalTask* find_verbal_task(std::string_view name) {
  for (const VerbalTask& t : tasks())
    if (t.name == name) return &t;
  return nullptr;
}

std::string verbal_task_names() {
  std::string s;
  for (const VerbalTask& t : tasks()) s += (s.empty() ? "" : ", ") + t.name;
  return s;
}

std::string verbal_input(const VerbalTask& task, std::string_view a, std::string_view b) {
  const std::string first(strip_ws(a)), second(strip_ws(b));
  if (task.name == "rte" || task.name == "mnli" || task.name == "wnli")
    return "Premise: " + first + "\nHypothesis: " + second;
  if (task.name == "qnli") return "Question: " + first + "\nSentence: " + second;
  if (task.name == "qqp") return "Question 1: " + first + "\nQuestion 2: " + second;
  if (task.name == "mrpc") return "Sentence 1: " + first + "\nSentence 2: " + second;
  if (task.name == "stsb") return "Sentence 1: " + first + "\nSentence 2: " + second;
  return first;
}

std::string verbalise_label(const VerbalTask& task, double label) {
  if (task.kind == VerbalKind::Score) return fmt::format("{:.1f}", label);
  return task.words.at(size_t(label));
}

Record verbal_record(const VerbalTask& task, std::string input, std::string output, std::string where) {
  Record r;
  r.kind = RecordKind::Instruction;
  r.instruction = task.instruction;
  r.input = std::move(input);
  r.output = std::move(output);
  r.where = std::move(where);
  return r;
}

std::string first_response_line(std::string_view generated) {
  std::string_view s = strip_ws(generated);
  s = s.substr(0, std::min(s.find('\n'), s.find("### ")));
  return std::string(strip_ws(s));
}

int parse_class_output(const VerbalTask& task, std::string_view output) {
  const std::string_view s = strip_ws(output);
  for (size_t c = 0; c < task.label_names.size(); ++c)
    if (s == task.label_names[c] || s == std::to_string(c)) return int(c);
  int best = -1;
  size_t best_at = std::string_view::npos;
  for (size_t c = 0; c < task.words.size(); ++c) {
    const size_t at = find_word(s, task.words[c]);
    if (at < best_at) {
      best_at = at;
      best = int(c);
    }
  }
  return best;
}

std::optional<double> parse_score_output(std::string_view output) {
  const std::vector<std::string> numbers = find_numbers(output);
  if (numbers.empty()) return std::nullopt;
  return std::clamp(std::strtod(numbers[0].c_str(), nullptr), 0.0, 5.0);
}

}  // namespace peft
