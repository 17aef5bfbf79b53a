#include "minitrain/data/table_file.hpp"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <charconv>
#include <cmath>
#include <fstream>
#include <optional>
#include <sstream>

#include "minitrain/base/diagnostics.hpp"
#include "minitrain/base/error.hpp"
#include "minitrain/io/text_lines.hpp"

namespace minitrain {

namespace fs = std::filesystem;

namespace {

struct Cell {
  std::string text;
  std::size_t column;  // 1-based, of the cell's first character
};

// Splits one line at `delimiter`; cells lose surrounding blanks and one pair of double quotes.
std::vector<Cell> split_line(const std::string& line, char delimiter) {
  std::vector<Cell> cells;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = line.find(delimiter, start);
    std::size_t first = start;
    std::size_t last = end == std::string::npos ? line.size() : end;
    while (first < last && (line[first] == ' ' || line[first] == '\t') && line[first] != delimiter) ++first;
    while (last > first && (line[last - 1] == ' ' || line[last - 1] == '\t') && line[last - 1] != delimiter) --last;
    if (last - first >= 2 && line[first] == '"' && line[last - 1] == '"') {
      ++first;
      --last;
    }
    cells.push_back({line.substr(first, last - first), first + 1});
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return cells;
}

std::vector<std::size_t> column_positions(const std::vector<std::string>& wanted, const std::vector<std::string>& header,
                                          const fs::path& path, const char* role) {
  std::vector<std::size_t> positions;
  for (const std::string& name : wanted) {
    const auto found = std::find(header.begin(), header.end(), name);
    if (found == header.end())
      throw DataError(fmt::format("{}:1: error: no {} column '{}'{}; the header has: {}", path.string(), role, name,
                                  did_you_mean(name, header), fmt::join(header, ", ")));
    positions.push_back(static_cast<std::size_t>(found - header.begin()));
  }
  return positions;
}

}  // namespace

TensorDataset read_table(const fs::path& path, const TableOptions& options) {
  TextLines in(path);  // plain or gzip-compressed
  if (!in.is_open())
    throw DataError(fmt::format("{}: error: cannot open table ({})\n  fix: check the table path in the data section of "
                                "the job file",
                                path.string(), fs::exists(path) ? "permission denied" : "no such file"));
  // table.tsv.gz is a TSV file: the name's extension before .gz says which.
  const std::string extension = (path.extension() == ".gz" ? path.stem() : path).extension().string();
  const char delimiter = options.delimiter ? options.delimiter : (extension == ".tsv" || extension == ".tab") ? '\t' : ',';

  std::string line;
  std::int64_t line_no = 0;
  std::vector<std::string> header;
  while (header.empty() && in.next(line)) {
    ++line_no;
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    for (const Cell& cell : split_line(line, delimiter)) {
      if (cell.text.empty())
        throw DataError(fmt::format("{}:{}:{}: error: empty column name in the header row", path.string(), line_no, cell.column));
      if (std::find(header.begin(), header.end(), cell.text) != header.end())
        throw DataError(fmt::format("{}:{}:{}: error: column '{}' appears twice in the header row", path.string(), line_no,
                                    cell.column, cell.text));
      header.push_back(cell.text);
    }
  }
  if (header.empty())
    throw DataError(fmt::format("{}: error: the table is empty; it needs a header row naming its columns", path.string()));
  if (header.size() == 1 && delimiter == ',' && line.find('\t') != std::string::npos)
    throw DataError(fmt::format("{}:{}: error: the header is one column with tabs in it; name the file .tsv or set "
                                "delimiter: tab",
                                path.string(), line_no));

  const std::vector<std::size_t> targets = column_positions(options.targets, header, path, "target");
  const std::optional<std::size_t> id_position =
      options.id_column.empty() ? std::nullopt
                                : std::optional(column_positions({options.id_column}, header, path, "ID").front());
  std::vector<std::string> feature_names = options.features;
  if (feature_names.empty()) {
    for (const std::string& name : header)
      if (std::find(options.targets.begin(), options.targets.end(), name) == options.targets.end() && name != options.id_column)
        feature_names.push_back(name);
  }
  const std::vector<std::size_t> features = column_positions(feature_names, header, path, "feature");
  if (features.empty())
    throw DataError(fmt::format("{}: error: no feature columns: every column is a target", path.string()));
  if (options.class_targets && targets.size() != 1)
    throw DataError(fmt::format("{}: error: class targets come from exactly one column; {} were given", path.string(),
                                targets.size()));

  std::vector<float> feature_values;
  std::vector<double> target_values;
  std::vector<std::string> ids;
  std::int64_t rows = 0;
  while (in.next(line)) {
    ++line_no;
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    const std::vector<Cell> cells = split_line(line, delimiter);
    if (cells.size() != header.size())
      throw DataError(fmt::format("{}:{}: error: {} cells, but the header has {} columns", path.string(), line_no,
                                  cells.size(), header.size()));
    auto number = [&](std::size_t position) {
      const Cell& cell = cells[position];
      double value = 0.0;
      const char* end = cell.text.data() + cell.text.size();
      const auto [stop, error] = std::from_chars(cell.text.data(), end, value);
      if (cell.text.empty() || error != std::errc() || stop != end)
        throw DataError(fmt::format("{}:{}:{}: error: {} in column '{}' is not a number", path.string(), line_no, cell.column,
                                    cell.text.empty() ? "an empty cell" : "'" + cell.text + "'", header[position]));
      return value;
    };
    for (const std::size_t position : features) feature_values.push_back(static_cast<float>(number(position)));
    for (const std::size_t position : targets) {
      const double value = number(position);
      if (options.class_targets && !(value >= 0 && std::floor(value) == value))
        throw DataError(fmt::format("{}:{}:{}: error: class label '{}' in column '{}' is not a whole number >= 0",
                                    path.string(), line_no, cells[position].column, cells[position].text, header[position]));
      target_values.push_back(value);
    }
    if (id_position) {
      const Cell& cell = cells[*id_position];
      if (cell.text.empty())
        throw DataError(fmt::format("{}:{}:{}: error: empty sample ID in column '{}'; every row needs one", path.string(),
                                    line_no, cell.column, options.id_column));
      ids.push_back(cell.text);
    }
    ++rows;
  }
  if (rows == 0) throw DataError(fmt::format("{}: error: the table has a header but no rows", path.string()));

  std::map<std::string, at::Tensor> columns;
  const auto feature_count = static_cast<std::int64_t>(features.size());
  columns["features"] = at::tensor(feature_values, at::kFloat).view({rows, feature_count});
  if (!targets.empty()) {
    const at::Tensor values = at::tensor(target_values, at::kDouble);
    columns["targets"] = options.class_targets ? values.to(at::kLong)
                                               : values.to(at::kFloat).view({rows, static_cast<std::int64_t>(targets.size())});
  }
  return TensorDataset(std::move(columns), std::move(ids));
}

}  // namespace minitrain
