// A predict's part of the report: rows over time and the rate they came at,
// what the writer finished and how long the loop waited for it, and the
// output as its manifest lists it.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <cmath>

#include "minitrain/report/report_sections.hpp"
#include "minitrain/report/svg_chart.hpp"

namespace minitrain {

namespace {

double start_time(const RunRecord& record) { return record.starts.front().time; }

const WriterRecord* last_writer(const RunRecord& record) { return record.writer.empty() ? nullptr : &record.writer.back(); }

// [rows, 155, 30] for a key with a row per sample; [1] for batch_idx, which has not.
std::string shape_text(const std::vector<std::int64_t>& shape, std::int64_t rows) {
  std::string text;
  for (std::size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + (i == 0 && shape[0] == rows ? std::string("rows") : std::to_string(shape[i]));
  return "[" + text + "]";
}

// Batch files and epoch files hold the same rows: one kind is counted, batch files where there are any.
std::map<int, std::int64_t> rows_by_rank(const Manifest& manifest) {
  const bool batches = std::any_of(manifest.files.begin(), manifest.files.end(), [](const ManifestFile& f) { return f.kind == "batch"; });
  std::map<int, std::int64_t> rows;
  for (const ManifestFile& file : manifest.files)
    if (file.kind == (batches ? "batch" : "epoch")) rows[file.rank] += static_cast<std::int64_t>(file.indices.size());
  return rows;
}

std::string manifest_section(const Manifest& manifest) {
  std::map<std::string, int> kinds;
  std::uint64_t bytes = 0;
  for (const ManifestFile& file : manifest.files) {
    ++kinds[file.kind];
    bytes += file.bytes;
  }
  std::string files;
  for (const auto& [kind, count] : kinds) files += fmt::format("{}{} {} file(s)", files.empty() ? "" : ", ", count, kind);
  std::vector<std::vector<std::string>> ranks;
  for (const auto& [rank, rows] : rows_by_rank(manifest)) ranks.push_back({std::to_string(rank), std::to_string(rows)});
  std::vector<std::vector<std::string>> keys;
  if (!manifest.files.empty()) {
    const ManifestFile& first = manifest.files.front();
    for (const ManifestTensor& tensor : first.tensors)
      keys.push_back({"<code>" + escape_html(tensor.key) + "</code>", escape_html(tensor.dtype),
                      shape_text(tensor.shape, static_cast<std::int64_t>(first.indices.size()))});
  }
  return fmt::format("<h3>Output (manifest.json)</h3>\n<dl class=\"summary\">\n<dt>Complete</dt><dd>yes: every rank finished and "
                     "manifest.json lists its files</dd>\n<dt>Files</dt><dd>{}, {} in all</dd>\n<dt>Model</dt><dd>{}</dd>\n"
                     "<dt>Weights</dt><dd><code>{}</code></dd>\n</dl>\n",
                     files, format_bytes(static_cast<double>(bytes)), escape_html(manifest.model),
                     escape_html(manifest.weights_file.empty() ? "(the model's own)" : manifest.weights_file)) +
         "<h4>Rows per rank</h4>\n" + html_table("ranks", {"rank", "rows"}, ranks) + "<h4>Keys in each file</h4>\n" +
         html_table("keys", {"key", "dtype", "shape"}, keys);
}

}  // namespace

SummaryRows predict_summary(const RunRecord& record, const Manifest* manifest) {
  SummaryRows rows;
  const std::int64_t rows_rank0 = record.predict.empty() ? 0 : record.predict.back().rows;
  const double seconds = record.predict.empty() ? 0 : record.predict.back().time - start_time(record);
  const std::string rate = seconds > 0 ? fmt::format(", {} rows/s", format_number(std::round(rows_rank0 / seconds))) : "";
  rows.emplace_back("Rows predicted (rank 0)", fmt::format("{} in {} batches{}", rows_rank0, record.predict.size(), rate));
  if (const WriterRecord* writer = last_writer(record)) {
    rows.emplace_back("Written (rank 0)", fmt::format("{} file(s), {} rows, {}", writer->files, writer->rows,
                                                      format_bytes(static_cast<double>(writer->bytes))));
    rows.emplace_back("Waiting for the writer", fmt::format("{} (a full queue, the final flush)", format_seconds(writer->waited_seconds)));
    rows.emplace_back("Output", "<code>" + escape_html(writer->output_dir) + "</code>");
  }
  if (manifest) {
    std::int64_t samples = 0;
    for (const auto& [rank, rank_rows] : rows_by_rank(*manifest)) samples += rank_rows;
    rows.emplace_back("Manifest", fmt::format("complete: {} file(s) of {} rank(s), {} rows", manifest->files.size(),
                                              manifest->world_size, samples));
  }
  return rows;
}

std::string predict_sections(const RunRecord& record, const Manifest* manifest) {
  const double start = start_time(record);
  Chart rows{"predict-rows", "Rows predicted over time (rank 0)", "seconds", "rows", {{"rows", {}}}, {}};
  Chart rate{"predict-rows-per-s", "Rows per second, batch by batch (rank 0)", "seconds", "rows/s", {{"rows/s", {}}}, {}};
  double previous_time = start;
  std::int64_t previous_rows = 0;
  for (const PredictRecord& p : record.predict) {
    rows.series[0].points.emplace_back(p.time - start, static_cast<double>(p.rows));
    if (p.time > previous_time)
      rate.series[0].points.emplace_back(p.time - start, static_cast<double>(p.rows - previous_rows) / (p.time - previous_time));
    previous_time = p.time;
    previous_rows = p.rows;
  }
  Chart written{"predict-written", "Written to disk over time (rank 0)", "seconds", "MB", {{"MB written", {}}}, {}};
  Chart waited{"predict-writer-wait", "Time the loop waited for the writer (rank 0)", "seconds", "seconds waited", {{"waited", {}}}, {}};
  for (const WriterRecord& w : record.writer) {
    written.series[0].points.emplace_back(w.time - start, static_cast<double>(w.bytes) / 1e6);
    waited.series[0].points.emplace_back(w.time - start, w.waited_seconds);
  }
  std::string html = "<section id=\"predict\">\n<h2>Prediction</h2>\n<div class=\"charts\">\n";
  html += render_chart(rows) + render_chart(rate);
  if (!record.writer.empty()) html += render_chart(written) + render_chart(waited);
  html += "</div>\n";
  if (manifest)
    html += manifest_section(*manifest);
  else if (!record.writer.empty())
    html += "<p class=\"note\">No manifest.json yet: the prediction_writer writes it last, once every rank has finished.</p>\n";
  return html + "</section>\n";
}

}  // namespace minitrain
