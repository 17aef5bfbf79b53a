#pragma once
// One dataset section of a job (data.train, data.val or data.predict), checked
// against the dataset formats table (data/dataset_kinds.hpp).
#include <yaml-cpp/yaml.h>

#include <memory>
#include <optional>
#include <string>

#include "minitrain/base/diagnostics.hpp"
#include "minitrain/base/param_check.hpp"
#include "minitrain/data/dataset_kinds.hpp"

namespace minitrain {

struct DatasetConfig {
  const DatasetKind* kind = nullptr;
  PluginArgs args;  // the format's own parameters, the format key included
  std::optional<std::int64_t> batch_size;
  std::optional<std::int64_t> max_tokens;  // batches packed by length instead (sequence formats)
  std::string yaml_path;  // data.train, ...
  std::string format() const { return kind->name; }
};

// Checks one section; nullopt (with diagnostics) when it names no single known format.
std::optional<DatasetConfig> load_dataset_config(YAML::Node node, const std::string& yaml_path, const JobSource& source,
                                                 Diagnostics& diagnostics);

// Reads or builds the dataset. Throws DataError for unreadable or malformed files.
std::shared_ptr<const Dataset> make_dataset(const DatasetConfig& config);

// "fasta configs/data/globins45.fa", "synthetic (1000 samples)", for logs.
std::string describe(const DatasetConfig& config);

}  // namespace minitrain
