// Loads run folders and renders them as one HTML page with inline SVG charts.
#include "eval/report.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

namespace peft {

std::string html_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '&': o += "&amp;"; break;
      case '"': o += "&quot;"; break;
      default: o += c;
    }
  }
  return o;
}

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
      Json j = Json::parse(line, nullptr, false);
      if (j.is_discarded() || !j.is_object()) return Status::errorf("{}: line {}: not a JSON object", metrics, ln);
      if (!j.contains("step") || !j["step"].is_number()) continue;
      const double step = j["step"].get<double>();
      if (j.contains("loss") && j["loss"].is_number()) run.loss.emplace_back(step, j["loss"].get<double>());
      for (const char* k : {"val_loss", "eval_loss"})
        if (j.contains(k) && j[k].is_number()) run.val.emplace_back(step, j[k].get<double>());
    }
  }
  if (has_r) {
    PEFT_ASSIGN_OR_RETURN(Json r, read_json_file(results));
    run.results.push_back(std::move(r));
  }
  return run;
}

namespace {
const char* kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"};

std::string num(double v, int prec = 4) { return fmt::format("{:.{}g}", v, prec); }

std::string chart(const std::vector<RunData>& runs) {
  double x0 = 1e300, x1 = -1e300, y0 = 1e300, y1 = -1e300;
  for (const auto& r : runs)
    for (const auto* s : {&r.loss, &r.val})
      for (const auto& [x, y] : *s) {
        if (!std::isfinite(y)) continue;
        x0 = std::min(x0, x); x1 = std::max(x1, x); y0 = std::min(y0, y); y1 = std::max(y1, y);
      }
  if (x0 > x1) return "<p>No loss curves (no metrics.jsonl with loss values).</p>\n";
  if (x1 == x0) x1 = x0 + 1;
  if (y1 == y0) y1 = y0 + 1;
  const double W = 760, H = 360, L = 60, R = 20, T = 20, B = 40;
  auto px = [&](double x) { return L + (x - x0) / (x1 - x0) * (W - L - R); };
  auto py = [&](double y) { return T + (1 - (y - y0) / (y1 - y0)) * (H - T - B); };
  std::string s = fmt::format("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" "
                              "font-family=\"sans-serif\" font-size=\"11\">\n", W, H);
  s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#999\"/>\n", L, T,
                   W - L - R, H - T - B);
  for (int i = 0; i <= 4; ++i) {
    const double fy = y0 + (y1 - y0) * i / 4.0, fx = x0 + (x1 - x0) * i / 4.0;
    s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n", L - 4, py(fy) + 4, num(fy));
    s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", px(fx), H - B + 14, num(fx, 6));
  }
  s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">step</text>\n", (L + W - R) / 2, H - 6);
  size_t legend = 0;  // only runs that have a curve get a legend line
  for (size_t i = 0; i < runs.size(); ++i) {
    if (runs[i].loss.empty() && runs[i].val.empty()) continue;
    const char* c = kColors[i % 8];
    std::string pts;
    for (const auto& [x, y] : runs[i].loss)
      if (std::isfinite(y)) pts += fmt::format("{:.1f},{:.1f} ", px(x), py(y));
    if (!pts.empty())
      s += fmt::format("<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"1.2\" points=\"{}\"/>\n", c, pts);
    for (const auto& [x, y] : runs[i].val)
      if (std::isfinite(y))
        s += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3.5\" fill=\"{}\"/>\n", px(x), py(y), c);
    s += fmt::format("<text x=\"{}\" y=\"{}\" fill=\"{}\">{}</text>\n", L + 8, T + 14 + 14 * double(legend++), c,
                     html_escape(runs[i].name));
  }
  return s + "</svg>\n";
}
}  // namespace

std::string render_report(const std::vector<RunData>& runs) {
  std::string h =
      "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>peft.cpp report</title>\n"
      "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
      "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f3f3f3}"
      "td:first-child{text-align:left}</style></head><body>\n<h1>peft.cpp report</h1>\n";
  h += "<h2>Training loss</h2>\n<p>Lines: training loss per step; dots: validation loss.</p>\n" + chart(runs);
  h += "<h2>Runs</h2>\n<table><tr><th>run</th><th>steps</th><th>first loss</th><th>last loss</th>"
       "<th>min loss</th><th>last val loss</th></tr>\n";
  for (const auto& r : runs) {
    if (r.loss.empty()) continue;
    double mn = r.loss[0].second;
    for (const auto& p : r.loss) mn = std::min(mn, p.second);
    h += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                     html_escape(r.name), num(r.loss.back().first, 8), num(r.loss.front().second),
                     num(r.loss.back().second), num(mn), r.val.empty() ? "" : num(r.val.back().second));
  }
  h += "</table>\n<h2>Evaluation</h2>\n<table><tr><th>run</th><th>task</th><th>n</th><th>accuracy</th>"
       "<th>accuracy_norm</th><th>unparsed</th><th>perplexity</th></tr>\n";
  for (const auto& r : runs)
    for (const auto& j : r.results) {
      auto get = [&](const char* k) { return j.contains(k) && j[k].is_number() ? num(j[k].get<double>()) : std::string(); };
      h += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                       html_escape(r.name), html_escape(j.value("task", std::string())), get("n"), get("accuracy"),
                       get("accuracy_norm"), get("unparsed"), get("perplexity"));
    }
  return h + "</table>\n</body></html>\n";
}

}  // namespace peft
