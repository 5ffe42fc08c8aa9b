// GLUE TSV / E2E "MR||reference" readers and their metrics over saved predictions.
#include "eval/reference_tasks.h"

#include <cstdlib>
#include <fstream>
#include <map>

#include "eval/extract.h"
#include "eval/metrics.h"

namespace peft {

namespace {
struct RefData {
  std::vector<double> labels;                   // GLUE
  std::vector<std::vector<std::string>> refs;   // E2E, per meaning representation
  std::vector<std::string> inputs;              // sentence(s) or MR, for predictions.jsonl
};

std::vector<std::string> split_tab(const std::string& line) {
  std::vector<std::string> f;
  size_t b = 0;
  for (size_t e; (e = line.find('\t', b)) != std::string::npos; b = e + 1) f.push_back(line.substr(b, e - b));
  f.push_back(line.substr(b));
  return f;
}

Result<RefData> load_ref(std::string_view name, const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Status::errorf("{}: data file not found", path);
  RefData d;
  std::map<std::string, size_t> mr_index;
  std::string line;
  const bool header = name != "cola" && name != "e2e";
  for (int64_t ln = 1; std::getline(f, line); ++ln) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if ((header && ln == 1) || line.empty()) continue;
    const std::string where = fmt::format("{}: line {}", path, ln);
    if (name == "e2e") {
      const size_t sep = line.find("||");
      if (sep == std::string::npos) return Status::errorf("{}: expected 'MR||reference'", where);
      const std::string mr = line.substr(0, sep);
      auto [it, fresh] = mr_index.emplace(mr, d.refs.size());
      if (fresh) { d.refs.emplace_back(); d.inputs.push_back(mr); }
      d.refs[it->second].push_back(line.substr(sep + 2));
      continue;
    }
    const auto c = split_tab(line);
    std::string label, input;
    if (name == "cola") {
      if (c.size() < 4) return Status::errorf("{}: expected 4 tab-separated columns", where);
      label = c[1]; input = c[3];
    } else {
      if (c.size() < 2) return Status::errorf("{}: expected a label column", where);
      label = c.back();
      input = name == "sst2" ? c[0] : c[c.size() - 3] + " ||| " + c[c.size() - 2];
    }
    double v;
    if (name == "rte") {
      if (label != "entailment" && label != "not_entailment")
        return Status::errorf("{}: label '{}' is not entailment or not_entailment", where, label);
      v = label == "entailment" ? 0 : 1;
    } else {
      char* end = nullptr;
      v = std::strtod(label.c_str(), &end);
      if (label.empty() || *end != '\0') return Status::errorf("{}: label '{}' is not a number", where, label);
    }
    d.labels.push_back(v);
    d.inputs.push_back(input);
  }
  if (d.inputs.empty()) return Status::errorf("{}: no records", path);
  return d;
}

// A class id from an output: "0"/"1" (rte also the label names); -1 when unparseable.
int parse_class(std::string_view name, std::string_view out) {
  const std::string s(strip_ws(out));
  if (name == "rte" && s == "entailment") return 0;
  if (name == "rte" && s == "not_entailment") return 1;
  if (s == "0" || s == "1") return s[0] - '0';
  return -1;
}
}  // namespace

bool is_reference_task(std::string_view n) {
  return n == "sst2" || n == "cola" || n == "rte" || n == "stsb" || n == "e2e";
}

std::string default_reference_data(std::string_view n) {
  const char* env = std::getenv("PEFT_SHARED_DIR");
  const std::string base = std::string((env && *env) ? env : "../shared") + "/data/datasets/";
  if (n == "e2e") return base + "e2e/valid.txt";
  const std::string folder = n == "sst2" ? "SST-2" : n == "cola" ? "CoLA" : n == "rte" ? "RTE" : "STS-B";
  return base + "glue/" + folder + "/dev.tsv";
}

Result<int64_t> count_reference_items(std::string_view name, const std::string& path) {
  PEFT_ASSIGN_OR_RETURN(RefData d, load_ref(name, path));
  return int64_t(d.inputs.size());
}

Result<EvalOutcome> score_reference_task(std::string_view name, const std::string& path,
                                         const std::vector<std::pair<int64_t, std::string>>& outputs) {
  PEFT_ASSIGN_OR_RETURN(RefData d, load_ref(name, path));
  EvalOutcome out;
  int64_t unparsed = 0;
  std::vector<int> pc, lc;
  std::vector<double> px, lx;
  std::vector<std::string> hyps;
  std::vector<std::vector<std::string>> refs;
  for (const auto& [i, o] : outputs) {
    Json p{{"index", i}, {"prompt", d.inputs[size_t(i)]}, {"output", o}};
    if (name == "e2e") {
      hyps.push_back(std::string(strip_ws(o)));
      refs.push_back(d.refs[size_t(i)]);
      p["label"] = d.refs[size_t(i)];
    } else if (name == "stsb") {
      const std::string s(strip_ws(o));
      char* end = nullptr;
      double v = std::strtod(s.c_str(), &end);
      const bool ok = !s.empty() && *end == '\0';
      unparsed += !ok;
      px.push_back(ok ? v : 0.0);
      lx.push_back(d.labels[size_t(i)]);
      p["extracted"] = ok ? Json(v) : Json("");
      p["label"] = d.labels[size_t(i)];
    } else {
      const int label = int(d.labels[size_t(i)]);
      const int c = parse_class(name, o);
      unparsed += c < 0;
      pc.push_back(c < 0 ? 1 - label : c);  // unparseable: wrong
      lc.push_back(label);
      p["extracted"] = c < 0 ? Json("") : Json(c);
      p["label"] = label;
      p["correct"] = c == label;
    }
    out.predictions.push_back(std::move(p));
  }
  Json& r = out.results;
  r["task"] = std::string(name);
  r["n"] = int64_t(outputs.size());
  r["unparsed"] = unparsed;
  if (name == "e2e") {
    r["bleu"] = bleu4(hyps, refs);
    r["rouge_l"] = rouge_l(hyps, refs);
  } else if (name == "stsb") {
    r["pearson"] = pearson_corr(px, lx);
    r["spearman"] = spearman_corr(px, lx);
  } else {
    r["accuracy"] = accuracy(pc, lc);
    if (name == "cola") r["matthews"] = matthews_corr(pc, lc);
  }
  return out;
}

std::string summary_line(const Json& r) {
  if (r.value("task", "") == "perplexity")
    return fmt::format("perplexity ppl={:.4f} nll={:.4f} tokens={}", r["perplexity"].get<double>(),
                       r["mean_nll"].get<double>(), r["tokens"].get<int64_t>());
  std::string s = r.value("task", "");
  bool first = true;
  for (const char* k : {"accuracy", "matthews", "pearson", "spearman", "bleu", "rouge_l"})
    if (r.contains(k)) {
      s += fmt::format(" {}={:.4f}", k, r[k].get<double>());
      if (first) { s += fmt::format(" n={}", r["n"].get<int64_t>()); first = false; }
    }
  if (r.contains("accuracy_norm")) s += fmt::format(" accuracy_norm={:.4f}", r["accuracy_norm"].get<double>());
  return s;
}

}  // namespace peft
