#pragma once
// A line chart drawn as inline SVG text, so a report reads in any browser,
// offline and with JavaScript off: axes with ticks at round numbers, a line
// per series, a dot per point (each with a tooltip) while there are few
// enough, and dashed vertical markers (the best checkpoint, an early stop).
// Points whose value is NaN or infinite are left out of the line.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace minitrain {

struct ChartSeries {
  std::string name;
  std::vector<std::pair<double, double>> points;  // (x, y)
};
struct ChartMarker {
  double x;
  std::string label;
};
struct Chart {
  std::string id;  // the figure's HTML id
  std::string title;
  std::string x_label;
  std::string y_label;
  std::vector<ChartSeries> series;
  std::vector<ChartMarker> markers;
};

// A <figure> holding the chart's <svg> and its caption.
std::string render_chart(const Chart& chart);

// Round-number ticks covering [low, high], at most `most` of them.
std::vector<double> nice_ticks(double low, double high, int most);
std::string format_number(double value);  // short: 0.001, 12.5, 3.2e+06
std::string escape_html(std::string_view text);

}  // namespace minitrain
