#pragma once
// The dataset formats, one table: a dataset section (data.train, data.val,
// data.predict) names its format by the key that holds its file or size, and
// its other keys are that format's options:
//   {fasta: seqs.fa, max_length: 512, padding: longest}
//   {table: rows.csv, targets: [label], class_targets: true}     (CSV, or TSV by .tsv or delimiter: tab)
//   {tensors: inputs.pt, keys: [features], ids_key: names}     (a torch.save'd dict of tensors)
//   {synthetic: 100000, num_features: 32, num_classes: 4, seed: 0}
// Any of them may set batch_size, replacing data.batch_size for that section.
// Each names its samples (Dataset::sample_id): the FASTA header's first word,
// a table's id_column, a tensor file's ids_key, else the index; the formats
// that read IDs take duplicate_ids: warn|error for samples sharing one.
// The job loader checks sections against it, `minitrain plugins` lists it.
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "minitrain/base/params.hpp"
#include "minitrain/data/data.hpp"

namespace minitrain {

struct DatasetKind {
  const char* name;  // the key naming the format: fasta, table, tensors, synthetic
  const char* description;
  std::span<const ParamSpec> params;  // the format key itself first
  // Arguments in range that do not fit together; may be null.
  std::vector<ArgProblem> (*problems)(const PluginArgs& args);
  // The fields of its batches, known from the arguments alone; empty when only
  // the file can tell (a tensor file without `keys`).
  std::vector<std::string> (*fields)(const PluginArgs& args);
  // Reads or builds the dataset; throws DataError for unreadable or malformed files.
  std::shared_ptr<const Dataset> (*make)(const PluginArgs& args);
};

std::span<const DatasetKind> dataset_kinds();
const DatasetKind* find_dataset_kind(const std::string& name);  // nullptr when there is none

}  // namespace minitrain
