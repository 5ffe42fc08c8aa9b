// Evaluation files: predictions to rescore, results/predictions output, perplexity data.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "eval/evaluator.h"
#include "eval/likelihood.h"
#include "io/atomic_output.h"

namespace peft {

Result<std::vector<std::pair<int64_t, std::string>>> load_predictions(const std::string& path, int64_t n_records) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Status::errorf("{}: cannot open the predictions file", path);
  std::vector<std::pair<int64_t, std::string>> out;
  std::set<int64_t> seen;
  std::string line;
  for (int64_t ln = 1; std::getline(f, line); ++ln) {
    if (line.find_first_not_of(" \t\r\n") == std::string::npos) continue;
    const std::string where = fmt::format("{}: line {}", path, ln);
    PEFT_TRY(check_json_depth(line, where));
    Json j = Json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object())
      return Status::errorf("{}: expected a JSON object {{\"index\": i, \"output\": \"...\"}}", where);
    PEFT_ASSIGN_OR_RETURN(int64_t index, json_get_int(j, "index", where));
    PEFT_ASSIGN_OR_RETURN(std::string output, json_get_string(j, "output", where));
    if (index < 0 || index >= n_records)
      return Status::errorf("{}: index {} is out of range: the task file has {} records (0..{})", where, index,
                            n_records, n_records - 1);
    if (!seen.insert(index).second) return Status::errorf("{}: index {} appears twice", where, index);
    out.emplace_back(index, std::move(output));
  }
  if (out.empty()) return Status::errorf("{}: no predictions", path);
  return out;
}

Status write_eval_outputs(const std::string& dir, const EvalOutcome& outcome, bool overwrite) {
  PEFT_ASSIGN_OR_RETURN(OutputDir out, OutputDir::create(dir, overwrite));
  std::string lines;
  for (const auto& p : outcome.predictions) lines += p.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
  PEFT_TRY(write_file_atomic(out.file("predictions.jsonl"), lines));
  PEFT_TRY(write_json_file(out.file("results.json"), outcome.results));
  return out.commit();
}

Result<EvalOutcome> eval_perplexity(const std::string& path, int64_t limit, const EvalModel& m) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Status::errorf("{}: data file not found", path);
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string content = ss.str();
  const size_t first = content.find_first_not_of(" \t\r\n");
  const bool jsonl = first != std::string::npos && content[first] == '{';
  std::vector<std::string> texts;
  std::istringstream in(content);
  std::string line;
  for (int64_t ln = 1; std::getline(in, line); ++ln) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    if (jsonl) {
      const std::string where = fmt::format("{}: line {}", path, ln);
      PEFT_TRY(check_json_depth(line, where));
      Json j = Json::parse(line, nullptr, false);
      if (j.is_discarded() || !j.is_object()) return Status::errorf("{}: expected a JSON object", where);
      PEFT_ASSIGN_OR_RETURN(std::string t, json_get_string(j, "text", where));
      texts.push_back(std::move(t));
    } else {
      texts.push_back(line);
    }
    if (limit > 0 && int64_t(texts.size()) >= limit) break;
  }
  if (texts.empty()) return Status::errorf("{}: no text", path);
  EvalOutcome out;
  double nll = 0;
  int64_t tokens = 0;
  for (size_t i = 0; i < texts.size(); ++i) {
    const auto ids = m.tok->encode(texts[i], true);
    NllSum s = sequence_nll(*m.model, m.hooks, ids);
    nll += s.nll;
    tokens += s.tokens;
    Json p;
    p["index"] = int64_t(i);
    p["tokens"] = s.tokens;
    p["nll"] = s.nll;
    out.predictions.push_back(std::move(p));
  }
  if (tokens == 0) return Status::errorf("{}: no line has two or more tokens to score", path);
  const double mean = nll / double(tokens);
  out.results["task"] = "perplexity";
  out.results["n"] = int64_t(texts.size());
  out.results["tokens"] = tokens;
  out.results["mean_nll"] = mean;
  out.results["perplexity"] = std::exp(mean);
  return out;
}

}  // namespace peft
