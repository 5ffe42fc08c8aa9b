// Loads run folders and assembles them into one HTML page (charts from report_svg).
#include "eval/report.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>

namespace peft {

namespace {
// peft_type of DIR/adapter_config.json, lower-cased (as --method names it); "" if unreadable.
std::string adapter_method(const std::string& dir) {
  const std::string path = dir + "/adapter_config.json";
  if (dir.empty() || !std::filesystem::exists(path)) return "";
  auto j = read_json_file(path);
  if (!j.is_ok() || !j->is_object() || !(*j).contains("peft_type") || !(*j)["peft_type"].is_string()) return "";
  std::string t = (*j)["peft_type"].get<std::string>();
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return t;
}

// The method an eval's results.json names: its settings.adapter ("" → the base model).
std::string eval_method(const Json& r) {
  if (!r.contains("settings") || !r["settings"].is_object() || !r["settings"].contains("adapter")) return "";
  const Json& a = r["settings"]["adapter"];
  if (!a.is_string()) return "";
  if (a.get<std::string>().empty()) return "base";
  const std::string m = adapter_method(a.get<std::string>());
  return m.empty() ? std::filesystem::path(a.get<std::string>()).filename().string() : m;
}
}  // namespace

Result<RunData> load_run(const std::string& dir) {
  namespace fs = std::filesystem;
  RunData run;
  run.name = dir;
  const std::string metrics = dir + "/metrics.jsonl", results = dir + "/results.json";
  const bool has_m = fs::exists(metrics), has_r = fs::exists(results);
  if (!has_m && !has_r) return Status::errorf("{}: no metrics.jsonl or results.json in this folder", dir);
  if (has_m) {
    std::ifstream f(metrics);
    std::string line;
    for (int64_t ln = 1; std::getline(f, line); ++ln) {
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      PEFT_TRY(check_json_depth(line, fmt::format("{}: line {}", metrics, ln)));
      Json j = Json::parse(line, nullptr, false);
      if (j.is_discarded() || !j.is_object()) return Status::errorf("{}: line {}: not a JSON object", metrics, ln);
      if (!j.contains("step") || !j["step"].is_number()) continue;
      const double step = j["step"].get<double>();
      auto take = [&](const char* key, std::vector<std::pair<double, double>>& into) {
        if (j.contains(key) && j[key].is_number()) into.emplace_back(step, j[key].get<double>());
      };
      take("loss", run.loss);
      take("val_loss", run.val);
      take("eval_loss", run.val);
      take("lr", run.lr);
      take("tokens_per_s", run.tokens_per_s);
    }
  }
  run.method = adapter_method(dir);
  if (has_r) {
    PEFT_ASSIGN_OR_RETURN(Json r, read_json_file(results));
    if (run.method.empty()) run.method = eval_method(r);
    run.results.push_back(std::move(r));
  }
  return run;
}

std::string main_metric(const Json& r) {
  for (const char* k : {"matthews", "pearson", "bleu", "accuracy"})
    if (r.contains(k) && r[k].is_number()) return k;
  return "";
}

namespace {
std::string num(double v, int prec = 4) { return fmt::format("{:.{}g}", v, prec); }

std::string label(const RunData& r) { return r.method.empty() ? r.name : r.name + " (" + r.method + ")"; }

using Series = std::vector<std::pair<double, double>>;

// One line per run of the series `pick` selects (and `dots`, if given, as circles).
std::string runs_chart(const std::vector<RunData>& runs, Series RunData::*pick, Series RunData::*dots,
                       const std::string& y_label, const std::string& empty_note, bool from_zero) {
  std::vector<LineSeries> s;
  for (size_t i = 0; i < runs.size(); ++i)
    s.push_back({label(runs[i]), chart_color(i), runs[i].*pick, dots ? runs[i].*dots : Series{}});
  return line_chart(s, "step", y_label, empty_note, from_zero);
}

std::string eval_bars(const std::vector<RunData>& runs) {
  std::vector<Bar> bars;
  for (size_t i = 0; i < runs.size(); ++i)
    for (const Json& j : runs[i].results) {
      const std::string k = main_metric(j);
      if (k.empty()) continue;
      const std::string task = j.value("task", std::string("?"));
      bars.push_back({task + " (" + k + ")", label(runs[i]), chart_color(i), j[k].get<double>()});
    }
  return bar_chart(bars, "score", "No eval results with an accuracy or task metric.");
}
}  // namespace

std::string render_report(const std::vector<RunData>& runs) {
  std::string h =
      "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>peft.cpp report</title>\n"
      "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
      "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f3f3f3}"
      "td:first-child{text-align:left}</style></head><body>\n<h1>peft.cpp report</h1>\n";
  h += "<h2>Training loss</h2>\n<p>Lines: training loss per step; dots: validation loss.</p>\n" +
       runs_chart(runs, &RunData::loss, &RunData::val, "loss", "No loss curves (no metrics.jsonl with loss values).",
                  false);
  h += "<h2>Learning rate</h2>\n" +
       runs_chart(runs, &RunData::lr, nullptr, "learning rate", "No learning-rate values in metrics.jsonl.", true);
  h += "<h2>Throughput</h2>\n<p>Training tokens per second, averaged from the start of each run.</p>\n" +
       runs_chart(runs, &RunData::tokens_per_s, nullptr, "tokens/s", "No tokens_per_s values in metrics.jsonl.", true);
  h += "<h2>Evaluation</h2>\n<p>Each task's main metric (accuracy; Matthews correlation for CoLA, Pearson for "
       "STS-B, BLEU for E2E) across runs.</p>\n" +
       eval_bars(runs);
  h += "<h2>Runs</h2>\n<table><tr><th>run</th><th>method</th><th>steps</th><th>first loss</th><th>last loss</th>"
       "<th>min loss</th><th>last val loss</th><th>last lr</th><th>tokens/s</th></tr>\n";
  for (const auto& r : runs) {
    if (r.loss.empty()) continue;
    double mn = r.loss[0].second;
    for (const auto& p : r.loss) mn = std::min(mn, p.second);
    h += fmt::format(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
        "<td>{}</td></tr>\n",
        html_escape(r.name), html_escape(r.method), num(r.loss.back().first, 8), num(r.loss.front().second),
        num(r.loss.back().second), num(mn), r.val.empty() ? "" : num(r.val.back().second),
        r.lr.empty() ? "" : num(r.lr.back().second),
        r.tokens_per_s.empty() ? "" : num(r.tokens_per_s.back().second, 5));
  }
  h += "</table>\n<h2>Eval results</h2>\n<table><tr><th>run</th><th>method</th><th>task</th><th>n</th><th>accuracy</th>"
       "<th>accuracy_norm</th><th>main metric</th><th>unparsed</th><th>perplexity</th></tr>\n";
  for (const auto& r : runs)
    for (const auto& j : r.results) {
      auto get = [&](const char* k) {
        return j.contains(k) && j[k].is_number() ? num(j[k].get<double>()) : std::string();
      };
      const std::string k = main_metric(j);
      h += fmt::format(
          "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
          "<td>{}</td></tr>\n",
          html_escape(r.name), html_escape(r.method), html_escape(j.value("task", std::string())), get("n"),
          get("accuracy"), get("accuracy_norm"), k.empty() ? "" : k + " " + get(k.c_str()), get("unparsed"),
          get("perplexity"));
    }
  return h + "</table>\n</body></html>\n";
}

}  // namespace peft
