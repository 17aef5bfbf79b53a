#pragma once
// FASTA reading, plain or gzip-compressed. Multi-line records are joined;
// every line is checked, and malformed input is a DataError naming file and line.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "minitrain/data/sequence_dataset.hpp"

namespace minitrain {

struct FastaRecord {
  std::string header;    // the text after '>', without trailing spaces
  std::string sequence;  // residues, upper case, line breaks removed (empty when scanned without them)
  std::int64_t line;     // 1-based line of the header
  std::int64_t sequence_offset = 0;  // byte offsets in the (uncompressed) text: the first sequence line,
  std::int64_t sequence_end = 0;     // and the line after the record's last one
  std::int64_t residues = 0;
};

// One pass over the file; `on_record` gets each record once it is complete.
// With keep_residues false the sequence is counted, not kept.
void scan_fasta(const std::filesystem::path& path, bool keep_residues, const std::function<void(FastaRecord&&)>& on_record);

std::vector<FastaRecord> read_fasta(const std::filesystem::path& path);

// The header's first word (UniProt's "sp|P69905|HBA_HUMAN"); empty for a blank header.
std::string fasta_id(const std::string& header);

// Every record of the file in memory, for a SequenceDataset.
std::shared_ptr<const SequencesInMemory> fasta_in_memory(const std::filesystem::path& path);

}  // namespace minitrain
