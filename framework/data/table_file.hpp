#pragma once
// CSV and TSV tables of numbers with a header row, read into a TensorDataset:
//   features [N, F] float32 — the chosen feature columns, in the order given
//   targets  [N, T] float32, or [N] int64 class labels with class_targets
// and, from an ID column if named, each row's sample ID (any text). Or protein
// sequences from one column (read_sequence_table). Cells may be quoted (RFC 4180).
// Every malformed cell is a DataError with file:line:column.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "minitrain/data/sequence_dataset.hpp"
#include "minitrain/data/tensor_dataset.hpp"

namespace minitrain {

struct TableOptions {
  char delimiter = 0;                 // ',' or '\t'; 0: '\t' for .tsv/.tab files, ',' otherwise
  std::vector<std::string> features;  // empty: every column that is not a target
  std::vector<std::string> targets;   // empty: no targets field (data to predict on)
  bool class_targets = false;         // one target column of whole numbers >= 0, read as int64
  std::string id_column;              // empty: rows are named by their index
  std::string sequence_column;        // read_sequence_table: the column of protein sequences
};

TensorDataset read_table(const std::filesystem::path& path, const TableOptions& options);

// A table's sequence column (ESM-2 inference's CSV input), each cell checked
// and tokenized as a FASTA record's residues are, named by id_column.
std::shared_ptr<const SequencesInMemory> read_sequence_table(const std::filesystem::path& path, const TableOptions& options);

}  // namespace minitrain
