#pragma once
// The parts of a report page that depend on the stage: a fit's curves and
// decisions, a predict's progress and its output. Each returns HTML: a summary
// list's rows, then sections of charts and tables.
#include <string>
#include <utility>
#include <vector>

#include "minitrain/io/prediction_manifest.hpp"
#include "minitrain/report/run_record.hpp"

namespace minitrain {

using SummaryRows = std::vector<std::pair<std::string, std::string>>;  // (what, value as HTML)

SummaryRows fit_summary(const RunRecord& record);
std::string fit_sections(const RunRecord& record);

SummaryRows predict_summary(const RunRecord& record, const Manifest* manifest);
std::string predict_sections(const RunRecord& record, const Manifest* manifest);

// An HTML table: a header row, then the rows (cells already HTML).
std::string html_table(const std::string& css_class, const std::vector<std::string>& header,
                       const std::vector<std::vector<std::string>>& rows);
std::string format_seconds(double seconds);  // 0.42 s, 3 min 20 s, 2 h 05 min
std::string format_bytes(double bytes);      // 1.5 MB

}  // namespace minitrain
