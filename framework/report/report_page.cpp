#include "minitrain/report/report_page.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <ctime>

#include "minitrain/io/atomic_file.hpp"
#include "minitrain/io/prediction_manifest.hpp"
#include "minitrain/report/report_sections.hpp"
#include "minitrain/report/svg_chart.hpp"

namespace minitrain {

namespace {

constexpr const char* kStyle = R"(
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 1360px; padding: 16px 24px; color: #222; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid #ddd; }
h3 { font-size: 15px; margin: 20px 0 6px; } h4 { font-size: 14px; margin: 14px 0 4px; }
.status { display: inline-block; padding: 1px 8px; border-radius: 4px; font-weight: 600; }
.status.finished { background: #e3f4e3; color: #1d6b1d; } .status.failed { background: #fbe3e3; color: #9b1c1c; }
.status.interrupted, .status.running { background: #fff3d6; color: #7a5300; }
dl.summary { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 8px 0; }
dl.summary dt { font-weight: 600; } dl.summary dd { margin: 0; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; }
figure.chart { margin: 0; border: 1px solid #e4e4e4; border-radius: 6px; padding: 6px; background: #fff; }
figure.chart svg { display: block; max-width: 100%; height: auto; font-size: 11px; }
figure.chart figcaption { font-weight: 600; padding: 2px 4px; }
.axis line, .tick line { stroke: #999; } .tick line { stroke: #eee; } .axis > line { stroke: #777; }
.axis text { fill: #444; } .axis .label { fill: #222; font-size: 12px; }
.series polyline { fill: none; stroke-width: 1.8; } .series circle { stroke: none; }
.marker line { stroke: #555; stroke-dasharray: 4 3; } .marker text { fill: #333; }
.legend text { fill: #222; font-size: 12px; } .empty { fill: #888; }
.readout { min-height: 1.4em; padding: 0 4px; color: #333; font-variant-numeric: tabular-nums; }
table { border-collapse: collapse; margin: 6px 0; } th, td { padding: 2px 10px; border-bottom: 1px solid #eee; text-align: right; }
th { background: #f6f6f6; } td code { font-size: 12px; }
pre { background: #f7f7f7; padding: 10px; overflow: auto; font-size: 12px; }
.note { color: #555; }
)";

// Names the point under the pointer in each chart's readout line; the page says the same without it.
constexpr const char* kScript = R"(
document.querySelectorAll('figure.chart').forEach(function (figure) {
  var svg = figure.querySelector('svg'), readout = figure.querySelector('.readout'), points = [];
  var xLabel = figure.getAttribute('data-x-label');
  figure.querySelectorAll('g.series').forEach(function (series) {
    var values = series.getAttribute('data-values').split(' ').filter(Boolean);
    var pixels = series.querySelector('polyline').getAttribute('points').split(' ').filter(Boolean);
    pixels.forEach(function (p, i) {
      var at = p.split(','), value = values[i].split(',');
      points.push({x: +at[0], y: +at[1], text: series.getAttribute('data-name') + ': ' + xLabel + ' ' + value[0] + ', ' + value[1]});
    });
  });
  svg.addEventListener('mousemove', function (event) {
    var box = svg.getBoundingClientRect(), view = svg.viewBox.baseVal;
    var x = (event.clientX - box.left) * view.width / box.width, y = (event.clientY - box.top) * view.height / box.height;
    var best = null, distance = Infinity;
    points.forEach(function (p) {
      var d = (p.x - x) * (p.x - x) + (p.y - y) * (p.y - y);
      if (d < distance) { distance = d; best = p; }
    });
    readout.textContent = best ? best.text : '';
  });
  svg.addEventListener('mouseleave', function () { readout.textContent = ''; });
});
)";

std::string utc_time(double unix_seconds) {
  if (!(std::abs(unix_seconds) < 1e15)) return "?";  // not a time a run had
  const std::time_t seconds = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  ::gmtime_r(&seconds, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return text;
}

// When the record last heard of the run.
double latest_time(const RunRecord& record) {
  double latest = record.starts.back().time;
  if (!record.steps.empty()) latest = std::max(latest, record.steps.rbegin()->second.time);
  if (!record.epochs.empty()) latest = std::max(latest, record.epochs.rbegin()->second.time);
  if (!record.predict.empty()) latest = std::max(latest, record.predict.back().time);
  if (!record.writer.empty()) latest = std::max(latest, record.writer.back().time);
  return record.end ? record.end->time : latest;
}

std::string status_of(const RunRecord& record) {
  if (!record.end) return "running";
  return record.end->status;
}

std::string summary_list(const SummaryRows& rows) {
  std::string html = "<dl class=\"summary\">\n";
  for (const auto& [what, value] : rows) html += fmt::format("<dt>{}</dt><dd>{}</dd>\n", escape_html(what), value);
  return html + "</dl>\n";
}

}  // namespace

std::string html_table(const std::string& css_class, const std::vector<std::string>& header,
                       const std::vector<std::vector<std::string>>& rows) {
  std::string html = fmt::format("<table class=\"{}\">\n<tr>", css_class);
  for (const std::string& cell : header) html += "<th>" + escape_html(cell) + "</th>";
  html += "</tr>\n";
  for (const auto& row : rows) {
    html += "<tr>";
    for (const std::string& cell : row) html += "<td>" + cell + "</td>";
    html += "</tr>\n";
  }
  return html + "</table>\n";
}

std::string format_seconds(double seconds) {
  if (!(std::abs(seconds) < 1e15)) return fmt::format("{} s", seconds);
  if (seconds < 60) return fmt::format("{:.2f} s", seconds);
  const auto whole = static_cast<std::int64_t>(std::round(seconds));
  if (whole < 3600) return fmt::format("{} min {:02} s", whole / 60, whole % 60);
  return fmt::format("{} h {:02} min", whole / 3600, whole % 3600 / 60);
}

std::string format_bytes(double bytes) {
  if (bytes < 1e3) return fmt::format("{} bytes", bytes);
  if (bytes < 1e6) return fmt::format("{:.1f} kB", bytes / 1e3);
  if (bytes < 1e9) return fmt::format("{:.1f} MB", bytes / 1e6);
  return fmt::format("{:.2f} GB", bytes / 1e9);
}

std::string render_report_page(const RunRecord& record, const Manifest* manifest, const ReportPageOptions& options) {
  const RunStart& first = record.starts.front();
  const RunStart& last = record.starts.back();
  const std::string status = escape_html(status_of(record));
  const char* still_going = options.refresh_seconds > 0 ? " (or stopped without a word; the page reloads while it runs)"
                                                        : " (or stopped without a word)";
  const double latest = latest_time(record);
  SummaryRows rows{{"Status", fmt::format("<span class=\"status {0}\">{0}</span>{1}", status,
                                          record.end && !record.end->message.empty() ? ": " + escape_html(record.end->message)
                                          : record.end ? "" : still_going)},
                   {"Started", utc_time(first.time)},
                   {"Wall time", format_seconds(latest - first.time) + (record.end ? "" : " so far")},
                   {"Ranks", std::to_string(last.world_size)},
                   {"Model", escape_html(last.model)}};
  if (record.starts.size() > 1) rows.emplace_back("Restarts", std::to_string(record.starts.size() - 1));
  const SummaryRows stage_rows = first.stage == "predict" ? predict_summary(record, manifest) : fit_summary(record);
  rows.insert(rows.end(), stage_rows.begin(), stage_rows.end());
  rows.emplace_back("Versions", escape_html(last.runtime));

  std::string html = fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
      "script-src 'unsafe-inline'\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n{}"
      "<title>minitrain {} report{}</title>\n<style>{}</style>\n</head>\n<body>\n<header>\n<h1>minitrain {} report</h1>\n",
      options.refresh_seconds > 0 && !record.end ? fmt::format("<meta http-equiv=\"refresh\" content=\"{}\">\n",
                                                               std::max(1.0, std::round(options.refresh_seconds)))
                                                 : "",
      escape_html(first.stage), options.source.empty() ? "" : ": " + escape_html(options.source), kStyle,
      escape_html(first.stage));
  if (!options.source.empty()) html += "<p class=\"note\"><code>" + escape_html(options.source) + "</code></p>\n";
  html += summary_list(rows) + "</header>\n<main>\n";
  html += first.stage == "predict" ? predict_sections(record, manifest) : fit_sections(record);
  html += "<section id=\"job\">\n<h2>Job, as resolved</h2>\n<pre>" + escape_html(last.job_yaml) + "</pre>\n</section>\n";
  return html + "</main>\n<script>" + kScript + "</script>\n</body>\n</html>\n";
}

void write_report_page(const RunRecord& record, const std::filesystem::path& output, const ReportPageOptions& options) {
  std::optional<Manifest> manifest;
  if (!record.writer.empty() && record.writer.back().done) manifest = read_manifest(record.writer.back().output_dir);
  if (output.has_parent_path()) std::filesystem::create_directories(output.parent_path());
  write_file_atomically(output, render_report_page(record, manifest ? &*manifest : nullptr, options));
}

}  // namespace minitrain
