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

// An open table with its header row read; next_row() gives the rest, each checked to have every column.
struct OpenTable {
  OpenTable(const fs::path& path, char delimiter_option);
  bool next_row(std::vector<Cell>& cells);  // false at the end
  std::vector<Cell> split_cells(const std::string& line) const;
  const std::string& sample_id(const std::vector<Cell>& cells, std::size_t position) const;  // not empty
  const fs::path path;
  TextLines in;
  char delimiter = ',';
  std::int64_t line_no = 0;
  std::vector<std::string> header;
};

OpenTable::OpenTable(const fs::path& table, char delimiter_option) : path(table), in(table) {  // plain or gzip-compressed
  if (!in.is_open())
    throw DataError(fmt::format("{}: error: cannot open table ({})\n  fix: check the table path in the data section of "
                                "the job file",
                                path.string(), fs::exists(path) ? "permission denied" : "no such file"));
  // table.tsv.gz is a TSV file: the name's extension before .gz says which.
  const std::string extension = (path.extension() == ".gz" ? path.stem() : path).extension().string();
  delimiter = delimiter_option ? delimiter_option : (extension == ".tsv" || extension == ".tab") ? '\t' : ',';
  std::string line;
  while (header.empty() && in.next(line)) {
    ++line_no;
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    for (const Cell& cell : split_cells(line)) {
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
}

// Splits one line at the delimiter; cells lose surrounding blanks. A cell in
// double quotes may hold the delimiter, and "" for a quote (RFC 4180), on one line.
std::vector<Cell> OpenTable::split_cells(const std::string& line) const {
  auto blank = [&](std::size_t at) { return at < line.size() && line[at] != delimiter && (line[at] == ' ' || line[at] == '\t'); };
  std::vector<Cell> cells;
  std::size_t at = 0;
  while (true) {
    while (blank(at)) ++at;
    if (at < line.size() && line[at] == '"') {
      const std::size_t open = at;
      std::string text;
      for (at = open + 1;; ++at) {
        if (at >= line.size())
          throw DataError(fmt::format("{}:{}:{}: error: the quoted cell is not closed on its line\n  fix: end it with \" "
                                      "(a quote inside a quoted cell is written \"\")",
                                      path.string(), line_no, open + 1));
        if (line[at] != '"') {
          text += line[at];
        } else if (at + 1 < line.size() && line[at + 1] == '"') {
          text += '"';
          ++at;
        } else {
          break;
        }
      }
      ++at;  // past the closing quote
      while (blank(at)) ++at;
      if (at < line.size() && line[at] != delimiter)
        throw DataError(fmt::format("{}:{}:{}: error: text after the closing quote of a cell\n  fix: quote the whole cell, "
                                    "and write a quote inside it as \"\"",
                                    path.string(), line_no, at + 1));
      cells.push_back({std::move(text), open + 2});
    } else {
      const std::size_t end = std::min(line.find(delimiter, at), line.size());
      std::size_t last = end;
      while (last > at && (line[last - 1] == ' ' || line[last - 1] == '\t') && line[last - 1] != delimiter) --last;
      cells.push_back({line.substr(at, last - at), at + 1});
      at = end;
    }
    if (at >= line.size()) break;
    ++at;  // past the delimiter
  }
  return cells;
}

bool OpenTable::next_row(std::vector<Cell>& cells) {
  std::string line;
  while (in.next(line)) {
    ++line_no;
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    cells = split_cells(line);
    if (cells.size() != header.size())
      throw DataError(fmt::format("{}:{}: error: {} cells, but the header has {} columns", path.string(), line_no,
                                  cells.size(), header.size()));
    return true;
  }
  return false;
}

const std::string& OpenTable::sample_id(const std::vector<Cell>& cells, std::size_t position) const {
  const Cell& cell = cells[position];
  if (cell.text.empty())
    throw DataError(fmt::format("{}:{}:{}: error: empty sample ID in column '{}'; every row needs one", path.string(),
                                line_no, cell.column, header[position]));
  return cell.text;
}

std::optional<std::size_t> id_position(const OpenTable& table, const std::string& id_column) {
  if (id_column.empty()) return std::nullopt;
  return column_positions({id_column}, table.header, table.path, "ID").front();
}

}  // namespace

TensorDataset read_table(const fs::path& path, const TableOptions& options) {
  OpenTable table(path, options.delimiter);
  const std::vector<std::string>& header = table.header;
  const std::int64_t& line_no = table.line_no;
  const std::vector<std::size_t> targets = column_positions(options.targets, header, path, "target");
  const std::optional<std::size_t> id_at = id_position(table, options.id_column);
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
  std::vector<Cell> cells;
  while (table.next_row(cells)) {
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
    if (id_at) ids.push_back(table.sample_id(cells, *id_at));
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

std::shared_ptr<const SequencesInMemory> read_sequence_table(const fs::path& path, const TableOptions& options) {
  OpenTable table(path, options.delimiter);
  const std::size_t sequence_at = column_positions({options.sequence_column}, table.header, path, "sequence").front();
  const std::optional<std::size_t> id_at = id_position(table, options.id_column);
  std::vector<std::string> ids, sequences;
  std::vector<Cell> cells;
  while (table.next_row(cells)) {
    const Cell& cell = cells[sequence_at];
    std::string residues;
    if (const auto bad = append_residues(cell.text, residues))
      throw DataError(fmt::format("{}:{}:{}: error: '{}' is not an amino-acid letter in column '{}'", path.string(),
                                  table.line_no, cell.column + *bad, cell.text[*bad], options.sequence_column));
    if (residues.empty())
      throw DataError(fmt::format("{}:{}:{}: error: no sequence in column '{}'; every row needs one", path.string(),
                                  table.line_no, cell.column, options.sequence_column));
    sequences.push_back(std::move(residues));
    if (id_at) ids.push_back(table.sample_id(cells, *id_at));
  }
  if (sequences.empty()) throw DataError(fmt::format("{}: error: the table has a header but no rows", path.string()));
  return std::make_shared<SequencesInMemory>(std::move(ids), std::move(sequences));
}

}  // namespace minitrain
