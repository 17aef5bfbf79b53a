#pragma once
// One dataset section of a job (data.train, data.val or data.predict). The
// key naming the format holds its file or size; the rest are its options:
//   {fasta: seqs.fa, max_length: 512, padding: longest}
//   {table: rows.csv, targets: [label], class_targets: true}     (CSV, or TSV by .tsv or delimiter: tab)
//   {tensors: inputs.pt, keys: [features]}                     (a torch.save'd dict of tensors)
//   {synthetic: 100000, num_features: 32, num_classes: 4, seed: 0}
// Any of them may set batch_size, replacing data.batch_size for that section.
#include <yaml-cpp/yaml.h>

#include <memory>
#include <optional>
#include <string>

#include "minitrain/data/data.hpp"
#include "minitrain/base/params.hpp"

namespace minitrain {

class Diagnostics;
class JobSource;

struct DatasetConfig {
  std::string format;  // fasta | table | tensors | synthetic
  PluginArgs args;     // the format's own parameters, the format key included
  std::optional<std::int64_t> batch_size;
  std::string yaml_path;  // data.train, ...
};

inline constexpr const char* kDatasetFormats[] = {"fasta", "table", "tensors", "synthetic"};

// Checks one section; nullopt (with diagnostics) when it names no single known format.
std::optional<DatasetConfig> load_dataset_config(YAML::Node node, const std::string& yaml_path, const JobSource& source,
                                                 Diagnostics& diagnostics);

// Reads or builds the dataset. Throws DataError for unreadable or malformed files.
std::shared_ptr<const Dataset> make_dataset(const DatasetConfig& config);

// "fasta configs/data/globins45.fa", "synthetic (1000 samples)", for logs.
std::string describe(const DatasetConfig& config);

}  // namespace minitrain
