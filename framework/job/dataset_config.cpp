// Dataset sections of a job: which format a section names, and its options.
#include "minitrain/job/dataset_config.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "minitrain/base/error.hpp"
#include "minitrain/base/log.hpp"
#include "minitrain/data/sample_ids.hpp"

namespace minitrain {

std::optional<DatasetConfig> load_dataset_config(YAML::Node node, const std::string& yaml_path, const JobSource& source,
                                                 Diagnostics& diagnostics) {
  std::vector<std::string> formats;
  for (const DatasetKind& kind : dataset_kinds()) formats.emplace_back(kind.name);
  const std::string example = "e.g. {fasta: seqs.fa}, {table: rows.csv, targets: [y]}, {tensors: data.pt} or {synthetic: 1000}";
  if (!node.IsMap()) {
    diagnostics.error(source.locate(node, yaml_path), yaml_path,
                      fmt::format("expected a dataset: one of {} naming its file or size, {}", fmt::join(formats, ", "), example));
    return std::nullopt;
  }
  std::vector<std::string> named;
  for (const auto& kv : node) {
    const std::string key = kv.first.Scalar();
    if (std::find(formats.begin(), formats.end(), key) != formats.end()) named.push_back(key);
  }
  if (named.size() != 1) {
    diagnostics.error(source.locate(node, yaml_path), yaml_path,
                      named.empty() ? fmt::format("names no dataset format; add one of {}, {}", fmt::join(formats, ", "), example)
                                    : fmt::format("names {} formats ({}); a section holds one dataset", named.size(),
                                                  fmt::join(named, ", ")));
    return std::nullopt;
  }
  DatasetConfig config{find_dataset_kind(named.front()), {}, std::nullopt, std::nullopt, yaml_path};
  const std::size_t before = diagnostics.items().size();
  config.args = validate_params(node, config.kind->params, yaml_path, source, diagnostics);
  if (config.kind->problems) report_arg_problems(config.kind->problems(config.args), node, yaml_path, source, diagnostics);
  if (diagnostics.items().size() != before) return std::nullopt;
  config.batch_size = config.args.optional_integer("batch_size");
  if (config.args.values().count("max_tokens")) config.max_tokens = config.args.optional_integer("max_tokens");
  return config;
}

std::shared_ptr<const Dataset> make_dataset(const DatasetConfig& config) {
  std::shared_ptr<const Dataset> dataset = config.kind->make(config.args);
  if (!config.args.has("duplicate_ids")) return dataset;  // a format whose IDs are its indices
  const DuplicateIds duplicates = find_duplicate_ids(*dataset);
  if (duplicates.samples == 0) return dataset;
  const std::string file = config.args.string(config.format());
  if (config.args.string("duplicate_ids") == "error")
    throw DataError(fmt::format("{}: error: {}; predictions joined to inputs by ID would be ambiguous\n  fix: make the "
                                "IDs unique, or set {}.duplicate_ids: warn to accept them",
                                file, describe(duplicates), config.yaml_path));
  log::warn(fmt::format("{}: {}; predictions joined to inputs by ID would be ambiguous (set {}.duplicate_ids: error to "
                        "refuse such data)",
                        file, describe(duplicates), config.yaml_path));
  return dataset;
}

std::string describe(const DatasetConfig& config) {
  if (config.format() == "synthetic") return fmt::format("synthetic ({} samples)", config.args.integer("synthetic"));
  return fmt::format("{} {}", config.format(), config.args.string(config.format()));
}

}  // namespace minitrain
