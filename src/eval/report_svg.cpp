// SVG line and bar charts for the report, written as plain strings.
#include "eval/report_svg.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace peft {

std::string html_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '<':
        o += "&lt;";
        break;
      case '>':
        o += "&gt;";
        break;
      case '&':
        o += "&amp;";
        break;
      case '"':
        o += "&quot;";
        break;
      default:
        o += c;
    }
  }
  return o;
}

const char* chart_color(size_t i) {
  static const char* kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd",
                                  "#ff7f0e", "#17becf", "#8c564b", "#e377c2"};
  return kColors[i % 8];
}

namespace {
// 4 significant digits, but whole numbers up to 1e15 in full ("40000", not "4e+04").
std::string num(double v, int prec = 4) {
  if (std::fabs(v) >= 1e4 && std::fabs(v) < 1e15 && v == std::round(v)) return fmt::format("{:.0f}", v);
  return fmt::format("{:.{}g}", v, prec);
}

// Plot frame shared by both charts: width, plot box margins.
constexpr double kW = 760, kL = 70, kR = 20, kT = 20, kPlotH = 300, kAxisH = 40, kLegendRow = 16;

std::string svg_open(double height) {
  return fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" "
      "font-family=\"sans-serif\" font-size=\"11\">\n",
      kW, height);
}

// A round tick spacing (1, 2, 2.5 or 5 × 10^k) giving about n intervals over [lo, hi].
double nice_step(double lo, double hi, int n) {
  const double raw = (hi - lo) / n, mag = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 2.5, 5.0})
    if (m * mag >= raw * (1 - 1e-9)) return m * mag;
  return 10 * mag;
}

// Widens [lo, hi] to multiples of a round step (hi > lo); returns the step.
double widen_to_ticks(double& lo, double& hi) {
  const double step = nice_step(lo, hi, 4);
  lo = std::floor(lo / step + 1e-9) * step;
  hi = std::ceil(hi / step - 1e-9) * step;
  return step;
}

// Frame, y ticks every `step` from y0 to y1, and the y-axis label.
std::string y_axis(double y0, double y1, double step, const std::string& y_label) {
  std::string s = fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#999\"/>\n",
                              kL, kT, kW - kL - kR, kPlotH);
  for (double v = y0; v <= y1 + step * 1e-6; v += step) {
    const double y = kT + (1 - (v - y0) / (y1 - y0)) * kPlotH;
    const double shown = std::fabs(v) < step * 1e-6 ? 0.0 : v;  // no "-1.1e-17" for zero
    s += fmt::format("<line x1=\"{}\" y1=\"{:.1f}\" x2=\"{}\" y2=\"{:.1f}\" stroke=\"#eee\"/>\n", kL + 1, y,
                     kW - kR - 1, y);
    s += fmt::format("<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n", kL - 4, y + 4, num(shown));
  }
  s += fmt::format("<text transform=\"translate(14,{}) rotate(-90)\" text-anchor=\"middle\">{}</text>\n",
                   kT + kPlotH / 2, html_escape(y_label));
  return s;
}

// One legend row per entry under the x axis.
std::string legend(const std::vector<std::pair<std::string, std::string>>& entries) {
  std::string s;
  for (size_t i = 0; i < entries.size(); ++i) {
    const double y = kT + kPlotH + kAxisH + kLegendRow * double(i);
    s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{}\"/>\n", kL, y, entries[i].second);
    s += fmt::format("<text x=\"{}\" y=\"{}\">{}</text>\n", kL + 16, y + 9, html_escape(entries[i].first));
  }
  return s;
}

double chart_height(size_t legend_rows) { return kT + kPlotH + kAxisH + kLegendRow * double(legend_rows) + 6; }
}  // namespace

std::string line_chart(const std::vector<LineSeries>& series, const std::string& x_label, const std::string& y_label,
                       const std::string& empty_note, bool y_from_zero) {
  double x0 = 1e300, x1 = -1e300, y0 = 1e300, y1 = -1e300;
  for (const auto& sr : series)
    for (const auto* pts : {&sr.line, &sr.dots})
      for (const auto& [x, y] : *pts) {
        if (!std::isfinite(y) || !std::isfinite(x)) continue;
        x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, y), y1 = std::max(y1, y);
      }
  if (x0 > x1) return "<p>" + html_escape(empty_note) + "</p>\n";
  if (x1 == x0) x1 = x0 + 1;
  if (y_from_zero) y0 = std::min(y0, 0.0), y1 = std::max(y1, 0.0);
  if (y1 == y0) {  // a flat series (a constant learning rate): centre it
    const double pad = y0 == 0 ? 1 : std::fabs(y0) * 0.5;
    y0 -= pad, y1 += pad;
  }
  const double y_step = widen_to_ticks(y0, y1);
  auto px = [&](double x) { return kL + (x - x0) / (x1 - x0) * (kW - kL - kR); };
  auto py = [&](double y) { return kT + (1 - (y - y0) / (y1 - y0)) * kPlotH; };
  std::vector<std::pair<std::string, std::string>> entries;
  std::string body;
  for (const auto& sr : series) {
    std::string pts;
    for (const auto& [x, y] : sr.line)
      if (std::isfinite(y) && std::isfinite(x)) pts += fmt::format("{:.1f},{:.1f} ", px(x), py(y));
    if (!pts.empty())
      body +=
          fmt::format("<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"1.5\" points=\"{}\"/>\n", sr.color, pts);
    bool dotted = false;
    for (const auto& [x, y] : sr.dots)
      if (std::isfinite(y) && std::isfinite(x)) {
        body += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3.5\" fill=\"{}\"/>\n", px(x), py(y), sr.color);
        dotted = true;
      }
    if (!pts.empty() || dotted) entries.emplace_back(sr.name, sr.color);
  }
  std::string s = svg_open(chart_height(entries.size())) + y_axis(y0, y1, y_step, y_label);
  const double x_step = nice_step(x0, x1, 5);  // x keeps the data's range, ticks at round steps
  for (double v = std::ceil(x0 / x_step - 1e-9) * x_step; v <= x1 + x_step * 1e-6; v += x_step)
    s += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", px(v), kT + kPlotH + 14,
                     num(v, 6));
  s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", (kL + kW - kR) / 2, kT + kPlotH + 30,
                   html_escape(x_label));
  return s + body + legend(entries) + "</svg>\n";
}

std::string bar_chart(const std::vector<Bar>& bars, const std::string& y_label, const std::string& empty_note) {
  std::vector<std::string> groups;
  std::vector<std::pair<std::string, std::string>> entries;  // (name, colour), first-seen order
  double y0 = 0, y1 = 1;
  for (const Bar& b : bars) {
    if (!std::isfinite(b.value)) continue;
    if (std::find(groups.begin(), groups.end(), b.group) == groups.end()) groups.push_back(b.group);
    if (std::none_of(entries.begin(), entries.end(), [&](const auto& e) { return e.first == b.name; }))
      entries.emplace_back(b.name, b.color);
    y0 = std::min(y0, b.value), y1 = std::max(y1, b.value);
  }
  if (groups.empty()) return "<p>" + html_escape(empty_note) + "</p>\n";
  const double y_step = widen_to_ticks(y0, y1);
  auto py = [&](double y) { return kT + (1 - (y - y0) / (y1 - y0)) * kPlotH; };
  const double group_w = (kW - kL - kR) / double(groups.size());
  std::string s = svg_open(chart_height(entries.size())) + y_axis(y0, y1, y_step, y_label);
  for (size_t g = 0; g < groups.size(); ++g) {
    std::vector<const Bar*> in;
    for (const Bar& b : bars)
      if (b.group == groups[g] && std::isfinite(b.value)) in.push_back(&b);
    // Bars fill 80 % of the group's width, at most 60 px each.
    const double bw = std::min(60.0, group_w * 0.8 / double(in.size()));
    const double left = kL + group_w * double(g) + (group_w - bw * double(in.size())) / 2;
    for (size_t i = 0; i < in.size(); ++i) {
      const double x = left + bw * double(i), top = py(std::max(in[i]->value, 0.0)),
                   base = py(std::min(in[i]->value, 0.0));
      s += fmt::format(
          "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"{}\">"
          "<title>{}: {}</title></rect>\n",
          x + 1, top, bw - 2, std::max(base - top, 0.5), in[i]->color, html_escape(in[i]->name), num(in[i]->value));
      s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n", x + bw / 2, top - 3,
                       num(in[i]->value, 3));
    }
    s += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", kL + group_w * (double(g) + 0.5),
                     kT + kPlotH + 14, html_escape(groups[g]));
  }
  if (y0 < 0)  // the zero line, when values go below it
    s += fmt::format("<line x1=\"{}\" y1=\"{:.1f}\" x2=\"{}\" y2=\"{:.1f}\" stroke=\"#666\"/>\n", kL, py(0), kW - kR,
                     py(0));
  return s + legend(entries) + "</svg>\n";
}

}  // namespace peft
