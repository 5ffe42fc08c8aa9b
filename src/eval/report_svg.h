// Inline SVG charts for the HTML report: line charts over steps and grouped bar charts. Pure
// strings, no scripts, nothing fetched.
#pragma once
#include <string>
#include <utility>
#include <vector>

namespace peft {

// "<", ">", "&", '"' escaped for HTML text and attributes.
std::string html_escape(const std::string& s);

// The colour of series i (runs keep one colour across every chart of the page).
const char* chart_color(size_t i);

struct LineSeries {
  std::string name;  // legend text (escaped when drawn)
  std::string color;
  std::vector<std::pair<double, double>> line;  // (x, y) drawn as a polyline
  std::vector<std::pair<double, double>> dots;  // (x, y) drawn as circles (e.g. validation)
};

// Axes with round ticks, one polyline (and dots) per series, a legend below the plot.
// Non-finite points are skipped; series without points get no legend line. y_from_zero keeps
// 0 on the y axis (rates, throughput). Returns `empty_note` as a paragraph when nothing is
// drawable.
std::string line_chart(const std::vector<LineSeries>& series, const std::string& x_label, const std::string& y_label,
                       const std::string& empty_note, bool y_from_zero = false);

struct Bar {
  std::string group;  // x-axis group (a task)
  std::string name;   // legend entry (a run); same name → same colour in every group
  std::string color;
  double value = 0;  // drawn from 0; the value is printed above the bar
};

// Bars side by side within each group, groups in first-seen order; the y axis spans 0..1
// unless a value lies outside. Empty note as in line_chart.
std::string bar_chart(const std::vector<Bar>& bars, const std::string& y_label, const std::string& empty_note);

}  // namespace peft
