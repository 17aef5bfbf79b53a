#include "minitrain/job/dataset_config.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "minitrain/job/config.hpp"
#include "minitrain/data/fasta.hpp"
#include "minitrain/data/synthetic_dataset.hpp"
#include "minitrain/data/table_file.hpp"
#include "minitrain/data/tensor_dataset.hpp"

namespace minitrain {

namespace {

constexpr ParamSpec kBatchSize{"batch_size", ParamType::Int, "null", "samples per batch (null: data.batch_size)", nullptr};

constexpr ParamSpec kFastaParams[] = {
    {"fasta", ParamType::Path, nullptr, "FASTA file of protein sequences", nullptr},
    {"max_length", ParamType::Int, "512", "tokens per sequence, <cls> and <eos> included; longer ones are truncated", nullptr},
    {"padding", ParamType::Enum, "longest", "pad each batch to its longest sequence or to max_length", "longest|max_length"},
    kBatchSize,
};
constexpr ParamSpec kTableParams[] = {
    {"table", ParamType::Path, nullptr, "CSV or TSV file of numbers with a header row", nullptr},
    {"delimiter", ParamType::Enum, "auto", "auto: tab for .tsv/.tab files, comma otherwise", "auto|comma|tab"},
    {"features", ParamType::StringList, "null", "feature columns, in order (null: every column that is not a target)", nullptr},
    {"targets", ParamType::StringList, "[]", "target columns (none: no targets, e.g. to predict)", nullptr},
    {"class_targets", ParamType::Bool, "false", "one target column of class labels 0..C-1, read as int64 [B]", nullptr},
    kBatchSize,
};
constexpr ParamSpec kTensorsParams[] = {
    {"tensors", ParamType::Path, nullptr, "file from Python's torch.save({'name': tensor, ...}), one row per sample", nullptr},
    {"keys", ParamType::StringList, "null", "tensors to use (null: all)", nullptr},
    kBatchSize,
};
constexpr ParamSpec kSyntheticParams[] = {
    {"synthetic", ParamType::Int, nullptr, "number of samples", nullptr},
    {"num_features", ParamType::Int, "16", "width of features [B, F]", nullptr},
    {"num_classes", ParamType::Int, "2", "classes of targets [B]; 0: regression targets [B, 1]", nullptr},
    {"seed", ParamType::Int, "0", "the same seed gives the same samples", nullptr},
    kBatchSize,
};

std::span<const ParamSpec> params_of(const std::string& format) {
  if (format == "fasta") return kFastaParams;
  if (format == "table") return kTableParams;
  if (format == "tensors") return kTensorsParams;
  return kSyntheticParams;
}

std::vector<ArgProblem> range_problems(const std::string& format, const PluginArgs& args) {
  std::vector<ArgProblem> problems;
  auto at_least = [&](const char* key, std::int64_t minimum) {
    if (args.has(key) && args.integer(key) < minimum)
      problems.push_back({key, fmt::format("must be at least {}, got {}", minimum, args.integer(key))});
  };
  at_least("batch_size", 1);
  if (format == "fasta") at_least("max_length", 3);
  if (format == "synthetic") {
    at_least("synthetic", 1);
    at_least("num_features", 1);
    const std::int64_t classes = args.integer("num_classes");
    if (classes < 0 || classes == 1)
      problems.push_back({"num_classes", fmt::format("must be 0 (regression) or at least 2, got {}", classes)});
  }
  return problems;
}

}  // namespace

std::optional<DatasetConfig> load_dataset_config(YAML::Node node, const std::string& yaml_path, const JobSource& source,
                                                 Diagnostics& diagnostics) {
  const std::vector<std::string> formats(std::begin(kDatasetFormats), std::end(kDatasetFormats));
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
  DatasetConfig config{named.front(), {}, std::nullopt, yaml_path};
  const std::size_t before = diagnostics.items().size();
  config.args = validate_params(node, params_of(config.format), yaml_path, source, diagnostics);
  if (diagnostics.items().size() != before) return std::nullopt;
  for (const ArgProblem& problem : range_problems(config.format, config.args)) {
    const std::string path = yaml_path + "." + problem.key;
    diagnostics.error(source.locate(node[problem.key], path), path, problem.message);
  }
  if (config.args.has("batch_size")) config.batch_size = config.args.integer("batch_size");
  return config;
}

std::shared_ptr<const Dataset> make_dataset(const DatasetConfig& config) {
  const PluginArgs& args = config.args;
  if (config.format == "fasta") {
    const Padding padding = args.string("padding") == "longest" ? Padding::longest : Padding::max_length;
    return std::make_shared<FastaDataset>(read_fasta(args.string("fasta")), args.integer("max_length"), padding);
  }
  if (config.format == "table") {
    TableOptions options;
    const std::string delimiter = args.string("delimiter");
    options.delimiter = delimiter == "comma" ? ',' : delimiter == "tab" ? '\t' : 0;
    if (args.has("features")) options.features = args.string_list("features");
    options.targets = args.string_list("targets");
    options.class_targets = args.boolean("class_targets");
    return std::make_shared<TensorDataset>(read_table(args.string("table"), options));
  }
  if (config.format == "tensors")
    return std::make_shared<TensorDataset>(
        load_tensor_file(args.string("tensors"), args.has("keys") ? args.string_list("keys") : std::vector<std::string>{}));
  return std::make_shared<SyntheticDataset>(args.integer("synthetic"), args.integer("num_features"),
                                            args.integer("num_classes"), static_cast<std::uint64_t>(args.integer("seed")));
}

std::string describe(const DatasetConfig& config) {
  if (config.format == "synthetic") return fmt::format("synthetic ({} samples)", config.args.integer("synthetic"));
  return fmt::format("{} {}", config.format, config.args.string(config.format));
}

}  // namespace minitrain
