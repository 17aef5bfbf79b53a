#pragma once
// The report page: one self-contained HTML file of a fit or a predict, made
// from its run record. Everything is in the file (styles, SVG charts drawn
// here, a few lines of script that only add a readout of the point under the
// pointer), and a Content-Security-Policy forbids fetching anything, so it
// opens offline and reads the same with JavaScript off.
#include <filesystem>
#include <string>

#include "minitrain/report/run_record.hpp"

namespace minitrain {

struct Manifest;  // minitrain/io/prediction_manifest.hpp

inline constexpr const char* kReportPageName = "report.html";

struct ReportPageOptions {
  double refresh_seconds = 0;  // > 0: the page reloads itself this often (while a run goes on)
  std::string source;          // where the record came from, for the title
};

// `manifest`: the prediction writer's, once it is written (nullptr: none).
std::string render_report_page(const RunRecord& record, const Manifest* manifest, const ReportPageOptions& options);

// Renders the page, with the manifest of the writer's output_dir once it
// exists, and writes it to `output` atomically.
void write_report_page(const RunRecord& record, const std::filesystem::path& output, const ReportPageOptions& options);

}  // namespace minitrain
