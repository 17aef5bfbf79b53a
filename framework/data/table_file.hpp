#pragma once
// CSV and TSV tables of numbers with a header row, read into a TensorDataset:
//   features [N, F] float32 — the chosen feature columns, in the order given
//   targets  [N, T] float32, or [N] int64 class labels with class_targets
// and, from an ID column if named, each row's sample ID (any text).
// Every malformed cell is a DataError with file:line:column.
#include <filesystem>
#include <string>
#include <vector>

#include "minitrain/data/tensor_dataset.hpp"

namespace minitrain {

struct TableOptions {
  char delimiter = 0;                 // ',' or '\t'; 0: '\t' for .tsv/.tab files, ',' otherwise
  std::vector<std::string> features;  // empty: every column that is not a target
  std::vector<std::string> targets;   // empty: no targets field (data to predict on)
  bool class_targets = false;         // one target column of whole numbers >= 0, read as int64
  std::string id_column;              // empty: rows are named by their index
};

TensorDataset read_table(const std::filesystem::path& path, const TableOptions& options);

}  // namespace minitrain
