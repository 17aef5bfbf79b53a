#include "minitrain/data/fasta.hpp"

#include <fmt/format.h>

#include <optional>

#include "minitrain/base/error.hpp"
#include "minitrain/io/text_lines.hpp"

namespace minitrain {

namespace fs = std::filesystem;

void scan_fasta(const fs::path& path, bool keep_residues, const std::function<void(FastaRecord&&)>& on_record) {
  TextLines in(path);  // plain or gzip-compressed
  if (!in.is_open()) {
    throw DataError(fmt::format("{}: error: cannot open FASTA file ({})\n  fix: check the fasta path in the data section of the job file",
                                path.string(), fs::exists(path) ? "permission denied" : "no such file"));
  }
  std::optional<FastaRecord> record;
  std::string line;
  std::int64_t line_no = 0;
  bool any = false;
  auto finish = [&](std::int64_t next_line, std::int64_t end) {
    if (!record) return;
    if (record->residues == 0) {
      throw DataError(fmt::format("{}:{}: error: record '{}' has no sequence before line {}", path.string(), record->line,
                                  record->header, next_line));
    }
    record->sequence_end = end;
    on_record(std::move(*record));
    record.reset();
  };
  std::string residues;
  while (in.next(line)) {
    ++line_no;
    if (line.empty() || line[0] == ';') continue;  // blank lines and old-style comments
    if (line[0] == '>') {
      finish(line_no, in.line_offset());
      std::string header = line.substr(1);
      while (!header.empty() && std::isspace(static_cast<unsigned char>(header.back()))) header.pop_back();
      record = FastaRecord{header, "", line_no, in.next_offset(), 0, 0};
      any = true;
      continue;
    }
    if (!record) {
      throw DataError(fmt::format("{}:{}: error: sequence data before the first '>' header line\n  fix: a FASTA "
                                  "record starts with a line like '>name description'",
                                  path.string(), line_no));
    }
    residues.clear();
    if (const auto bad = append_residues(line, residues)) {
      throw DataError(fmt::format("{}:{}:{}: error: '{}' is not an amino-acid letter in record '{}'", path.string(),
                                  line_no, *bad + 1, line[*bad], record->header));
    }
    record->residues += static_cast<std::int64_t>(residues.size());
    if (keep_residues) record->sequence += residues;
  }
  finish(line_no + 1, in.next_offset());
  if (!any) {
    throw DataError(fmt::format("{}: error: no FASTA records found (the file is empty or has no '>' header)",
                                path.string()));
  }
}

std::vector<FastaRecord> read_fasta(const fs::path& path) {
  std::vector<FastaRecord> records;
  scan_fasta(path, true, [&](FastaRecord&& record) { records.push_back(std::move(record)); });
  return records;
}

std::string fasta_id(const std::string& header) {
  const std::size_t begin = header.find_first_not_of(" \t");
  if (begin == std::string::npos) return "";
  return header.substr(begin, header.find_first_of(" \t", begin) - begin);
}

std::shared_ptr<const SequencesInMemory> fasta_in_memory(const fs::path& path) {
  std::vector<std::string> ids, sequences;
  scan_fasta(path, true, [&](FastaRecord&& record) {
    ids.push_back(fasta_id(record.header));
    sequences.push_back(std::move(record.sequence));
  });
  return std::make_shared<SequencesInMemory>(std::move(ids), std::move(sequences));
}

}  // namespace minitrain
