// GLUE / E2E items (prompts and labels from data/glue_e2e.h) and their metrics over outputs.
#include "eval/reference_tasks.h"

#include <cstdlib>
#include <map>

#include "data/glue_e2e.h"
#include "data/prompt.h"
#include "eval/e2e_metrics.h"
#include "eval/extract.h"
#include "eval/metrics.h"

namespace peft {

bool is_reference_task(std::string_view n) { return find_verbal_task(n) != nullptr; }

std::string default_reference_data(std::string_view n) {
  const char* env = std::getenv("PEFT_SHARED_DIR");
  const std::string base = std::string((env && *env) ? env : "../shared") + "/data/datasets/";
  if (n == "e2e") return base + "e2e/test.txt";
  // Not bundled: where download scripts put them (pass --data otherwise).
  if (n == "webnlg") return base + "webnlg_challenge_2017/test.json";
  if (n == "dart") return base + "dart/dart-v1.1.1-full-test.json";
  // download_glue_data.py's folder names; MNLI's dev set is split matched / mismatched.
  static const std::pair<const char*, const char*> folders[] = {{"sst2", "SST-2"}, {"cola", "CoLA"}, {"rte", "RTE"},
                                                                {"stsb", "STS-B"}, {"mrpc", "MRPC"}, {"qqp", "QQP"},
                                                                {"qnli", "QNLI"},  {"mnli", "MNLI"}, {"wnli", "WNLI"}};
  for (const auto& [task, folder] : folders)
    if (n == task) return base + "glue/" + folder + (n == "mnli" ? "/dev_matched.tsv" : "/dev.tsv");
  return base + "glue/" + std::string(n) + "/dev.tsv";
}

Result<std::vector<ReferenceItem>> load_reference_items(std::string_view name, const std::string& path) {
  PEFT_ASSIGN_OR_RETURN(VerbalFile f, load_verbal_file(name, path));
  std::vector<ReferenceItem> items;
  std::map<std::string, size_t> mr_index;
  for (const VerbalRow& row : f.rows) {
    if (f.task->kind == VerbalKind::Text) {
      auto [it, fresh] = mr_index.emplace(row.input, items.size());
      if (fresh) items.push_back({record_user_prompt(verbal_record(*f.task, row.input, "", "")), 0, {}});
      items[it->second].refs.push_back(row.reference);
    } else {
      items.push_back({record_user_prompt(verbal_record(*f.task, row.input, "", "")), row.label, {}});
    }
  }
  return items;
}

Result<EvalOutcome> score_reference_items(std::string_view name, const std::vector<ReferenceItem>& items,
                                          const std::vector<std::pair<int64_t, std::string>>& outputs) {
  const VerbalTask* task = find_verbal_task(name);
  if (task == nullptr) return Status::errorf("'{}' is not one of {}", name, verbal_task_names());
  EvalOutcome out;
  int64_t unparsed = 0;
  std::vector<int> pc, lc;
  std::vector<double> px, lx;
  std::vector<std::string> hyps;
  std::vector<std::vector<std::string>> refs;
  for (const auto& [i, o] : outputs) {
    if (i < 0 || i >= int64_t(items.size()))
      return Status::errorf("output index {} is out of range: {} items", i, items.size());
    const ReferenceItem& item = items[size_t(i)];
    Json p{{"index", i}, {"prompt", item.prompt}, {"output", o}};
    if (task->kind == VerbalKind::Text) {
      hyps.push_back(std::string(strip_ws(o)));
      unparsed += hyps.back().empty();  // nothing to score (still counted in BLEU's brevity)
      refs.push_back(item.refs);
      p["label"] = item.refs;
    } else if (task->kind == VerbalKind::Score) {
      const std::optional<double> v = parse_score_output(o);
      unparsed += !v;
      px.push_back(v.value_or(0.0));
      lx.push_back(item.label);
      p["extracted"] = v ? Json(*v) : Json("");
      p["label"] = item.label;
    } else {
      const int label = int(item.label);
      const int c = parse_class_output(*task, o);
      unparsed += c < 0;
      pc.push_back(c);  // -1 when unreadable: wrong for accuracy, its own class for matthews
      lc.push_back(label);
      p["extracted"] = c < 0 ? Json("") : Json(task->words[size_t(c)]);
      p["label"] = task->words[size_t(label)];
      p["correct"] = c == label;
    }
    out.predictions.push_back(std::move(p));
  }
  Json& r = out.results;
  r["task"] = std::string(name);
  r["n"] = int64_t(outputs.size());
  r["unparsed"] = unparsed;
  if (task->kind == VerbalKind::Text) {  // the E2E challenge's scorer (eval/e2e_metrics.h)
    PEFT_ASSIGN_OR_RETURN(E2eScores e, e2e_scores(hyps, refs));
    r["bleu"] = e.bleu;
    r["nist"] = e.nist;
    r["rouge_l"] = e.rouge_l;
    r["cider"] = e.cider;
    r["metrics"] = "E2E measure_scores.py (pymteval BLEU/NIST, pycocoevalcap ROUGE-L/CIDEr); no METEOR";
  } else if (task->kind == VerbalKind::Score) {
    r["pearson"] = pearson_corr(px, lx);
    r["spearman"] = spearman_corr(px, lx);
  } else {
    r["accuracy"] = accuracy(pc, lc);
    if (name == "cola") r["matthews"] = matthews_corr(pc, lc);
    if (name == "mrpc" || name == "qqp") r["f1"] = f1_binary(pc, lc);
  }
  return out;
}

Result<EvalOutcome> score_reference_task(std::string_view name, const std::string& path,
                                         const std::vector<std::pair<int64_t, std::string>>& outputs) {
  PEFT_ASSIGN_OR_RETURN(auto items, load_reference_items(name, path));
  return score_reference_items(name, items, outputs);
}

std::string summary_line(const Json& r) {
  if (r.value("task", "") == "perplexity")
    return fmt::format("perplexity ppl={:.4f} nll={:.4f} tokens={}", r["perplexity"].get<double>(),
                       r["mean_nll"].get<double>(), r["tokens"].get<int64_t>());
  std::string s = r.value("task", "");
  bool first = true;
  for (const char* k : {"accuracy", "f1", "matthews", "pearson", "spearman", "bleu", "nist", "rouge_l", "cider"})
    if (r.contains(k)) {
      s += fmt::format(" {}={:.4f}", k, r[k].get<double>());
      if (first) {
        s += fmt::format(" n={}", r["n"].get<int64_t>());
        first = false;
      }
    }
  if (r.contains("accuracy_norm")) s += fmt::format(" accuracy_norm={:.4f}", r["accuracy_norm"].get<double>());
  return s;
}

}  // namespace peft
