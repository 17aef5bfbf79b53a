#include "minitrain/report/svg_chart.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>
#include <limits>

namespace minitrain {

namespace {

constexpr double kWidth = 640, kHeight = 280;
constexpr double kLeft = 70, kRight = 16, kTop = 34, kBottom = 46;
constexpr std::size_t kMostDrawn = 2000;  // a longer series is thinned to this many points
constexpr std::size_t kMostDots = 200;    // dots only while they stay apart
constexpr const char* kColours[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b"};

struct Range {
  double low = std::numeric_limits<double>::infinity();
  double high = -std::numeric_limits<double>::infinity();
  void add(double v) {
    low = std::min(low, v);
    high = std::max(high, v);
  }
  bool empty() const { return low > high; }
  // A range of one value is widened, so it has a middle to draw at.
  void widen() {
    if (empty()) *this = {0, 1};
    if (low == high) {
      const double pad = low == 0 ? 1 : std::abs(low) * 0.1;
      low -= pad;
      high += pad;
    }
  }
};

std::vector<std::pair<double, double>> finite_points(const ChartSeries& series) {
  std::vector<std::pair<double, double>> points;
  for (const auto& [x, y] : series.points)
    if (std::isfinite(x) && std::isfinite(y)) points.emplace_back(x, y);
  if (points.size() <= kMostDrawn) return points;
  std::vector<std::pair<double, double>> thinned;
  const double every = static_cast<double>(points.size() - 1) / static_cast<double>(kMostDrawn - 1);
  for (std::size_t i = 0; i < kMostDrawn; ++i) thinned.push_back(points[static_cast<std::size_t>(std::round(i * every))]);
  return thinned;
}

}  // namespace

std::string escape_html(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string format_number(double value) {
  if (value == 0) return "0";
  const double magnitude = std::abs(value);
  if (magnitude >= 1e6 || magnitude < 1e-4) return fmt::format("{:.3g}", value);
  return fmt::format("{:.6g}", std::round(value * 1e6) / 1e6);
}

std::vector<double> nice_ticks(double low, double high, int most) {
  if (!(high > low) || most < 2) return {low};
  // A span beyond doubles (1e308 apart) or too fine to step through: its ends will do.
  if (!std::isfinite(high - low) || std::max(std::abs(low), std::abs(high)) / (high - low) > 1e12) return {low, high};
  const double rough = (high - low) / (most - 1);
  const double power = std::pow(10, std::floor(std::log10(rough)));
  double step = power * 10;
  for (const double factor : {1.0, 2.0, 2.5, 5.0, 10.0})
    if (power * factor >= rough) {
      step = power * factor;
      break;
    }
  std::vector<double> ticks;
  const double first = std::ceil(low / step - 1e-9);
  for (int k = 0; k <= most && (first + k) * step <= high + step * 1e-9; ++k)
    ticks.push_back(std::strtod(fmt::format("{:.12g}", (first + k) * step).c_str(), nullptr));  // 0.6, not 0.6000000000000001
  return ticks;
}

std::string render_chart(const Chart& chart) {
  std::vector<std::vector<std::pair<double, double>>> drawn;
  Range xs, ys;
  for (const ChartSeries& series : chart.series) {
    drawn.push_back(finite_points(series));
    for (const auto& [x, y] : drawn.back()) {
      xs.add(x);
      ys.add(y);
    }
  }
  const bool no_data = xs.empty();
  for (const ChartMarker& marker : chart.markers) xs.add(marker.x);
  xs.widen();
  ys.widen();
  const double y_pad = (ys.high - ys.low) * 0.05;
  ys.low -= y_pad;
  ys.high += y_pad;
  const double plot_w = kWidth - kLeft - kRight, plot_h = kHeight - kTop - kBottom;
  auto px = [&](double x) { return kLeft + (x - xs.low) / (xs.high - xs.low) * plot_w; };
  auto py = [&](double y) { return kTop + (ys.high - y) / (ys.high - ys.low) * plot_h; };

  std::string svg = fmt::format(
      "<figure class=\"chart\" id=\"{0}\" data-x-label=\"{4}\">\n"
      "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {1} {2}\" width=\"{1}\" height=\"{2}\" role=\"img\" "
      "aria-labelledby=\"{0}-title\">\n<title id=\"{0}-title\">{3}</title>\n",
      escape_html(chart.id), kWidth, kHeight, escape_html(chart.title), escape_html(chart.x_label));
  const std::vector<double> x_ticks = nice_ticks(xs.low, xs.high, 8), y_ticks = nice_ticks(ys.low, ys.high, 6);
  svg += fmt::format("<g class=\"axis x\" data-ticks=\"{}\">\n<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"/>\n", x_ticks.size(),
                     kLeft, kTop + plot_h, kLeft + plot_w, kTop + plot_h);
  for (const double tick : x_ticks)
    svg += fmt::format("<g class=\"tick\"><line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\"/><text x=\"{0:.1f}\" "
                       "y=\"{3}\" text-anchor=\"middle\">{4}</text></g>\n",
                       px(tick), kTop, kTop + plot_h + 4, kTop + plot_h + 17, format_number(tick));
  svg += fmt::format("<text class=\"label\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n</g>\n", kLeft + plot_w / 2,
                     kHeight - 8, escape_html(chart.x_label));
  svg += fmt::format("<g class=\"axis y\" data-ticks=\"{}\">\n<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"/>\n", y_ticks.size(),
                     kLeft, kTop, kLeft, kTop + plot_h);
  for (const double tick : y_ticks)
    svg += fmt::format("<g class=\"tick\"><line x1=\"{0}\" y1=\"{1:.1f}\" x2=\"{2}\" y2=\"{1:.1f}\"/><text x=\"{3}\" "
                       "y=\"{4:.1f}\" text-anchor=\"end\">{5}</text></g>\n",
                       kLeft - 4, py(tick), kLeft + plot_w, kLeft - 7, py(tick) + 4, format_number(tick));
  svg += fmt::format("<text class=\"label\" transform=\"translate(14 {}) rotate(-90)\" text-anchor=\"middle\">{}</text>\n</g>\n",
                     kTop + plot_h / 2, escape_html(chart.y_label));
  for (std::size_t i = 0; i < chart.markers.size(); ++i) {
    const ChartMarker& marker = chart.markers[i];
    const bool on_the_right = px(marker.x) > kLeft + plot_w * 0.7;  // its label goes to the left of the line there
    svg += fmt::format("<g class=\"marker\"><line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\"/><text x=\"{3:.1f}\" "
                       "y=\"{4}\" text-anchor=\"{5}\">{6}</text></g>\n",
                       px(marker.x), kTop, kTop + plot_h, px(marker.x) + (on_the_right ? -3 : 3), kTop + 10 + 13.0 * i,
                       on_the_right ? "end" : "start", escape_html(marker.label));
  }
  double legend_x = kLeft;
  for (std::size_t i = 0; i < chart.series.size(); ++i) {
    const ChartSeries& series = chart.series[i];
    const char* colour = kColours[i % std::size(kColours)];
    std::string line, values;
    for (const auto& [x, y] : drawn[i]) {
      line += fmt::format("{}{:.1f},{:.1f}", line.empty() ? "" : " ", px(x), py(y));
      values += fmt::format("{}{},{}", values.empty() ? "" : " ", format_number(x), format_number(y));
    }
    svg += fmt::format("<g class=\"series\" data-name=\"{}\" data-points=\"{}\" data-values=\"{}\" stroke=\"{}\" fill=\"{}\">\n"
                       "<polyline points=\"{}\"/>\n",
                       escape_html(series.name), drawn[i].size(), values, colour, colour, line);
    if (drawn[i].size() <= kMostDots)
      for (const auto& [x, y] : drawn[i])
        svg += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"2.5\"><title>{}: {} {}, {}</title></circle>\n", px(x),
                           py(y), escape_html(series.name), escape_html(chart.x_label), format_number(x), format_number(y));
    svg += "</g>\n";
    svg += fmt::format("<g class=\"legend\"><rect x=\"{0:.1f}\" y=\"10\" width=\"12\" height=\"12\" fill=\"{1}\"/><text x=\"{2:.1f}\" "
                       "y=\"20\">{3}</text></g>\n",
                       legend_x, colour, legend_x + 16, escape_html(series.name));
    legend_x += 28 + 7.0 * static_cast<double>(series.name.size());
  }
  if (no_data)
    svg += fmt::format("<text class=\"empty\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">no points yet</text>\n",
                       kLeft + plot_w / 2, kTop + plot_h / 2);
  svg += fmt::format("</svg>\n<div class=\"readout\"></div>\n<figcaption>{}</figcaption>\n</figure>\n", escape_html(chart.title));
  return svg;
}

}  // namespace minitrain
