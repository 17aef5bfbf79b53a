#include "minitrain/data/fasta.hpp"

#include <ATen/ATen.h>
#include <fmt/format.h>


#include "minitrain/base/error.hpp"
#include "minitrain/io/text_lines.hpp"

namespace minitrain {

namespace fs = std::filesystem;

std::vector<FastaRecord> read_fasta(const fs::path& path) {
  TextLines in(path);  // plain or gzip-compressed
  if (!in.is_open()) {
    throw DataError(fmt::format("{}: error: cannot open FASTA file ({})\n  fix: check the fasta path in the data section of the job file",
                                path.string(), fs::exists(path) ? "permission denied" : "no such file"));
  }
  std::vector<FastaRecord> records;
  std::string line;
  std::int64_t line_no = 0;
  auto finish = [&](std::int64_t next_line) {
    if (!records.empty() && records.back().sequence.empty()) {
      throw DataError(fmt::format("{}:{}: error: record '{}' has no sequence before line {}", path.string(),
                                  records.back().line, records.back().header, next_line));
    }
  };
  while (in.next(line)) {
    ++line_no;
    if (line.empty() || line[0] == ';') continue;  // blank lines and old-style comments
    if (line[0] == '>') {
      finish(line_no);
      std::string header = line.substr(1);
      while (!header.empty() && std::isspace(static_cast<unsigned char>(header.back()))) header.pop_back();
      records.push_back({header, "", line_no});
      continue;
    }
    if (records.empty()) {
      throw DataError(fmt::format("{}:{}: error: sequence data before the first '>' header line\n  fix: a FASTA "
                                  "record starts with a line like '>name description'",
                                  path.string(), line_no));
    }
    for (std::size_t col = 0; col < line.size(); ++col) {
      const char c = line[col];
      if (std::isspace(static_cast<unsigned char>(c))) continue;
      if (c == '*' && col + 1 == line.size()) continue;  // translation stop
      if (c == '-' || c == '.') continue;                // alignment gaps carry no residue
      if (!AminoAcidTokenizer::is_residue_char(c)) {
        throw DataError(fmt::format("{}:{}:{}: error: '{}' is not an amino-acid letter in record '{}'", path.string(),
                                    line_no, col + 1, c, records.back().header));
      }
      records.back().sequence += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
  }
  finish(line_no + 1);
  if (records.empty()) {
    throw DataError(fmt::format("{}: error: no FASTA records found (the file is empty or has no '>' header)",
                                path.string()));
  }
  return records;
}

FastaDataset::FastaDataset(std::vector<FastaRecord> records, std::int64_t max_length, Padding padding)
    : records_(std::move(records)), max_length_(max_length), padding_(padding) {}

std::int64_t FastaDataset::size() const { return static_cast<std::int64_t>(records_.size()); }

const FastaRecord& FastaDataset::record(std::int64_t index) const {
  return records_.at(static_cast<std::size_t>(index));
}

std::string FastaDataset::sample_id(std::int64_t index) const {
  const std::string& header = record(index).header;
  const std::size_t begin = header.find_first_not_of(" \t");
  if (begin == std::string::npos) return Dataset::sample_id(index);
  return header.substr(begin, header.find_first_of(" \t", begin) - begin);
}

Batch FastaDataset::get_batch(std::span<const std::int64_t> indices) const {
  std::vector<std::vector<std::int64_t>> encoded;
  encoded.reserve(indices.size());
  std::int64_t longest = 0;
  for (std::int64_t index : indices) {
    encoded.push_back(tokenizer_.encode(record(index).sequence, max_length_));
    longest = std::max<std::int64_t>(longest, static_cast<std::int64_t>(encoded.back().size()));
  }
  const std::int64_t length = padding_ == Padding::longest ? longest : max_length_;
  const auto rows = static_cast<std::int64_t>(indices.size());
  at::Tensor input_ids = at::full({rows, length}, AminoAcidTokenizer::kPad, at::kLong);
  at::Tensor attention_mask = at::zeros({rows, length}, at::kBool);
  auto ids = input_ids.accessor<std::int64_t, 2>();
  auto mask = attention_mask.accessor<bool, 2>();
  for (std::int64_t row = 0; row < rows; ++row) {
    const auto& tokens = encoded[static_cast<std::size_t>(row)];
    for (std::size_t col = 0; col < tokens.size(); ++col) {
      ids[row][static_cast<std::int64_t>(col)] = tokens[col];
      mask[row][static_cast<std::int64_t>(col)] = true;
    }
  }
  Batch batch;
  batch.indices.assign(indices.begin(), indices.end());
  batch.fields["input_ids"] = input_ids;
  batch.fields["attention_mask"] = attention_mask;
  return batch;
}

}  // namespace minitrain
