// The dataset formats: their parameters and how each is read.
#include "minitrain/data/dataset_kinds.hpp"

#include <fmt/format.h>

#include "minitrain/base/error.hpp"
#include "minitrain/data/fasta.hpp"
#include "minitrain/data/fasta_index.hpp"
#include "minitrain/data/synthetic_dataset.hpp"
#include "minitrain/data/table_file.hpp"
#include "minitrain/data/tensor_dataset.hpp"
#include "minitrain/io/text_lines.hpp"

namespace minitrain {

namespace fs = std::filesystem;

namespace {

// From this size on (auto) a FASTA file is indexed rather than held in memory.
constexpr std::uintmax_t kIndexFromBytes = std::uintmax_t{64} << 20;

constexpr ParamSpec kBatchSize{"batch_size", ParamType::Int, "null", "samples per batch (null: data.batch_size)", nullptr,
                               at_least(1)};

constexpr ParamSpec kDuplicateIds{"duplicate_ids", ParamType::Enum, "warn",
                                  "samples sharing an ID: a warning with examples, or an error", "warn|error"};

constexpr ParamSpec kMaxLength{"max_length", ParamType::Int, "512",
                               "tokens per sequence, <cls> and <eos> included; longer ones are truncated", nullptr, at_least(3)};
constexpr ParamSpec kPadding{"padding", ParamType::Enum, "longest", "pad each batch to its longest sequence or to max_length",
                             "longest|max_length"};

constexpr ParamSpec kMaxTokens{"max_tokens", ParamType::Int, "null",
                               "predict and val: sort by length and pack batches up to this many tokens, padding included, "
                               "instead of batch_size (ESM's toks_per_batch)",
                               nullptr, at_least(1)};

constexpr ParamSpec kFastaParams[] = {
    {"fasta", ParamType::Path, nullptr, "FASTA file of protein sequences, plain or gzip-compressed", nullptr},
    kMaxLength,
    kPadding,
    {"index", ParamType::Enum, "auto",
     "read records on demand through an index beside the file (FILE.mtfai); auto: for uncompressed files of 64 MiB or more",
     "auto|always|never"},
    kBatchSize,
    kMaxTokens,
    kDuplicateIds,
};
constexpr ParamSpec kTableParams[] = {
    {"table", ParamType::Path, nullptr, "CSV or TSV file with a header row, plain or gzip-compressed", nullptr},
    {"delimiter", ParamType::Enum, "auto", "auto: tab for .tsv/.tab files, comma otherwise", "auto|comma|tab"},
    {"features", ParamType::StringList, "null", "feature columns, in order (null: every column that is not a target)", nullptr},
    {"targets", ParamType::StringList, "[]", "target columns (none: no targets, e.g. to predict)", nullptr},
    {"class_targets", ParamType::Bool, "false", "one target column of class labels 0..C-1, read as int64 [B]", nullptr},
    {"id_column", ParamType::String, "null", "column of sample IDs, any text (null: rows are named by their index)", nullptr},
    {"sequence_column", ParamType::String, "null",
     "column of protein sequences, tokenized as FASTA records are: input_ids, attention_mask (null: a table of numbers)",
     nullptr},
    kMaxLength,
    kPadding,
    kBatchSize,
    kMaxTokens,
    kDuplicateIds,
};
constexpr ParamSpec kTensorsParams[] = {
    {"tensors", ParamType::Path, nullptr, "file from Python's torch.save({'name': tensor, ...}), one row per sample", nullptr},
    {"keys", ParamType::StringList, "null", "tensors to use (null: all but ids_key)", nullptr},
    {"ids_key", ParamType::String, "null", "entry of sample IDs: a list of strings or a 1-D integer tensor (null: the index)",
     nullptr},
    kBatchSize,
    kDuplicateIds,
};
constexpr ParamSpec kSyntheticParams[] = {
    {"synthetic", ParamType::Int, nullptr, "number of samples", nullptr, at_least(1)},
    {"num_features", ParamType::Int, "16", "width of features [B, F]", nullptr, at_least(1)},
    {"num_classes", ParamType::Int, "2", "classes of targets [B]; 0: regression targets [B, 1]", nullptr},
    {"seed", ParamType::Int, "0", "the same seed gives the same samples", nullptr},
    kBatchSize,
};

std::vector<ArgProblem> synthetic_problems(const PluginArgs& args) {
  if (!args.has("num_classes")) return {};  // already reported
  const std::int64_t classes = args.integer("num_classes");
  if (classes < 0 || classes == 1) return {{"num_classes", fmt::format("must be 0 (regression) or at least 2, got {}", classes)}};
  return {};
}

std::vector<std::string> fasta_fields(const PluginArgs&) { return {"input_ids", "attention_mask"}; }

std::vector<std::string> table_fields(const PluginArgs& args) {
  if (args.has("sequence_column")) return {"input_ids", "attention_mask"};
  std::vector<std::string> fields{"features"};
  if (!args.string_list("targets").empty()) fields.emplace_back("targets");
  return fields;
}

std::vector<std::string> tensors_fields(const PluginArgs& args) {
  return args.has("keys") ? args.string_list("keys") : std::vector<std::string>{};
}

std::vector<std::string> synthetic_fields(const PluginArgs&) { return {"features", "targets"}; }

Padding padding_of(const PluginArgs& args) {
  return args.string("padding") == "longest" ? Padding::longest : Padding::max_length;
}

std::shared_ptr<const Dataset> make_fasta(const PluginArgs& args) {
  const fs::path path = args.string("fasta");
  const std::string index = args.string("index");
  const bool compressed = is_gzip_file(path);
  if (index == "always" && compressed)
    throw DataError(fmt::format("{}: error: index: always needs an uncompressed FASTA file; this one is gzip-compressed, "
                                "and is read as a stream\n  fix: decompress it (gunzip -k), or set index: auto",
                                path.string()));
  std::error_code no_size;
  const std::uintmax_t bytes = fs::file_size(path, no_size);
  const bool indexed = !compressed && !no_size && (index == "always" || (index == "auto" && bytes >= kIndexFromBytes));
  std::shared_ptr<const SequenceRecords> records;
  if (indexed)
    records = std::make_shared<IndexedFasta>(path);
  else
    records = fasta_in_memory(path);
  return std::make_shared<SequenceDataset>(std::move(records), args.integer("max_length"), padding_of(args));
}

TableOptions table_options(const PluginArgs& args) {
  TableOptions options;
  const std::string delimiter = args.string("delimiter");
  options.delimiter = delimiter == "comma" ? ',' : delimiter == "tab" ? '\t' : 0;
  if (args.has("features")) options.features = args.string_list("features");
  options.targets = args.string_list("targets");
  options.class_targets = args.boolean("class_targets");
  if (args.has("id_column")) options.id_column = args.string("id_column");
  if (args.has("sequence_column")) options.sequence_column = args.string("sequence_column");
  return options;
}

std::vector<ArgProblem> table_problems(const PluginArgs& args) {
  if (!args.has("sequence_column")) {
    if (args.has("max_tokens"))
      return {{"max_tokens", "packs batches by sequence length, and a table of numbers has none; set sequence_column, "
                             "or use batch_size"}};
    return {};
  }
  std::vector<ArgProblem> problems;
  for (const char* numbers : {"features", "targets"}) {
    if (args.has(numbers) && !args.string_list(numbers).empty())
      problems.push_back({numbers, "a table with a sequence_column gives input_ids and attention_mask; features and "
                                   "targets belong to a table of numbers"});
  }
  return problems;
}

std::shared_ptr<const Dataset> make_table(const PluginArgs& args) {
  const TableOptions options = table_options(args);
  if (!options.sequence_column.empty())
    return std::make_shared<SequenceDataset>(read_sequence_table(args.string("table"), options),
                                             args.integer("max_length"), padding_of(args));
  return std::make_shared<TensorDataset>(read_table(args.string("table"), options));
}

std::shared_ptr<const Dataset> make_tensors(const PluginArgs& args) {
  return std::make_shared<TensorDataset>(
      load_tensor_file(args.string("tensors"), args.has("keys") ? args.string_list("keys") : std::vector<std::string>{},
                       args.has("ids_key") ? args.string("ids_key") : ""));
}

std::shared_ptr<const Dataset> make_synthetic(const PluginArgs& args) {
  return std::make_shared<SyntheticDataset>(args.integer("synthetic"), args.integer("num_features"),
                                            args.integer("num_classes"), static_cast<std::uint64_t>(args.integer("seed")));
}

constexpr DatasetKind kDatasetKinds[] = {
    {"fasta", "protein sequences, tokenized: input_ids [B, L] int64, attention_mask [B, L] bool", kFastaParams, nullptr,
     fasta_fields, make_fasta},
    {"table",
     "a CSV/TSV table of numbers: features [B, F] float32, targets [B, T] float32 or [B] int64; or of sequences "
     "(sequence_column): input_ids, attention_mask", kTableParams,
     table_problems, table_fields, make_table},
    {"tensors", "a torch.save dict of tensors, one row per sample: each tensor by its name", kTensorsParams, nullptr,
     tensors_fields, make_tensors},
    {"synthetic", "N seeded samples of a linear teacher: features [B, F] float32, targets [B] int64", kSyntheticParams,
     synthetic_problems, synthetic_fields, make_synthetic},
};

}  // namespace

std::span<const DatasetKind> dataset_kinds() { return kDatasetKinds; }

const DatasetKind* find_dataset_kind(const std::string& name) { return find_by_name<DatasetKind>(kDatasetKinds, name); }

}  // namespace minitrain
