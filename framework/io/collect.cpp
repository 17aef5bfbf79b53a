#include "minitrain/io/collect.hpp"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <future>
#include <map>
#include <optional>
#include <span>

#include "minitrain/io/collate.hpp"
#include "minitrain/io/hdf5_export.hpp"
#include "minitrain/base/error.hpp"
#include "minitrain/io/ivalue_tree.hpp"
#include "minitrain/io/manifest_check.hpp"
#include "minitrain/io/prediction_file.hpp"
#include "minitrain/io/prediction_files.hpp"
#include "minitrain/io/prediction_ids.hpp"
#include "minitrain/io/safetensors_file.hpp"
#include "minitrain/io/serialization.hpp"
#include "minitrain/io/stored_rows.hpp"
#include "minitrain/io/torch_archive.hpp"
#include "minitrain/io/unpadded.hpp"

namespace minitrain {

namespace fs = std::filesystem;

namespace {

struct RankFiles {
  std::optional<fs::path> epoch;
  std::map<std::int64_t, fs::path> batches;  // by batch_idx
};

// Finished prediction files by rank: its epoch file, or its batch files.
std::map<int, RankFiles> find_prediction_files(const fs::path& dir) {
  std::map<int, RankFiles> ranks;
  for (const auto& [file, name] : prediction_files_in(dir)) {
    if (name.temporary) continue;
    RankFiles& rank = ranks[name.rank];
    if (name.batch_idx)
      rank.batches[*name.batch_idx] = file;
    else
      rank.epoch = file;
  }
  return ranks;
}

// At most the first ten of `values`, and how many of `total` are not shown.
std::string first_few(const std::vector<std::int64_t>& values, std::int64_t total) {
  const std::size_t shown = std::min<std::size_t>(values.size(), 10);
  std::string out = fmt::format("{}", fmt::join(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(shown), ", "));
  if (total > static_cast<std::int64_t>(shown)) out += fmt::format(" (and {} more)", total - static_cast<std::int64_t>(shown));
  return out;
}

// A prediction file: its predictions (the dict without the reserved keys and
// the unpadded outputs' offsets), batch_indices, ids, and the row lengths of
// each unpadded output.
// `stored` says where each of the predictions' tensors is (for_each_tensor order).
struct PredictionFile {
  c10::IValue predictions;
  at::Tensor indices;
  std::optional<std::vector<std::string>> ids;
  std::map<std::string, std::vector<std::int64_t>> unpadded;
  std::vector<StoredTensor> stored;
};

// The predictions' data is not read (load_prediction_layout), except the unpadded outputs' offsets.
PredictionFile read_prediction_file(const fs::path& file) {
  const std::string offsets_suffix = offsets_key("");
  PredictionLayout layout = load_prediction_layout(file, [&](const std::string& key) {
    return key.size() > offsets_suffix.size() && key.ends_with(offsets_suffix);
  });
  c10::impl::GenericDict dict = layout.dict.copy();
  std::map<const c10::TensorImpl*, std::optional<std::uint64_t>> offset_of;
  std::size_t position = 0;
  for_each_tensor(dict, [&](const at::Tensor& t) { offset_of[t.unsafeGetTensorImpl()] = layout.tensor_offsets.at(position++); });
  const at::Tensor indices = dict.at(kBatchIndicesKey).toTensor().to(at::kLong).reshape({-1});
  std::optional<std::vector<std::string>> ids = ids_in(dict, indices.numel(), file);
  for (const char* reserved : {kBatchIndicesKey, kBatchIdxKey, kIdsKey}) static_cast<void>(dict.erase(reserved));
  std::map<std::string, std::vector<std::int64_t>> unpadded;
  for (const auto& entry : dict) {
    const auto offsets = dict.find(offsets_key(entry.key().toStringRef()));
    if (offsets == dict.end() || !entry.value().isTensor() || !offsets->value().isTensor()) continue;
    const auto lengths = lengths_of(offsets->value().toTensor(), entry.value().toTensor(), indices.numel());
    if (!lengths)
      throw DataError(fmt::format("{}: error: '{}' is not offsets into '{}' for {} rows (int64 [rows + 1] from 0 to its "
                                  "length, never falling)",
                                  file.string(), offsets->key().toStringRef(), entry.key().toStringRef(), indices.numel()));
    unpadded[entry.key().toStringRef()] = *lengths;
  }
  for (const auto& [key, lengths] : unpadded) static_cast<void>(dict.erase(offsets_key(key)));
  std::vector<StoredTensor> stored;
  for_each_tensor(dict, [&](const at::Tensor& t) {
    const std::optional<std::uint64_t> offset = offset_of.at(t.unsafeGetTensorImpl());
    StoredTensor s{file, offset.value_or(0), t.sizes().vec(), static_cast<std::size_t>(t.element_size()), {}};
    // A compressed record, or a tensor stored with other strides (its bytes are not its rows in order):
    // the layout read it, and it is copied from memory.
    if (!offset || !t.is_contiguous()) s.in_memory = t.contiguous();
    stored.push_back(std::move(s));
  });
  return {dict, indices, std::move(ids), std::move(unpadded), std::move(stored)};
}

// Writes the merged tensors in a format other than pt.
void write_export(const ExportPlan& plan, const RowSource& rows, const fs::path& output, const CollectOptions& options,
                  const SaveOptions& save_options) {
  if (options.format == CollectFormat::hdf5) return export_hdf5(plan, rows, output, save_options);
  if (options.format == CollectFormat::h5ad) return export_h5ad(plan, rows, output, options.x_key, save_options);
  const auto metadata = write_ids_sidecar(output, plan.ids.empty() ? nullptr : &plan.ids, save_options);
  std::vector<SafetensorsTensor> tensors;
  for (const ExportTensor& t : plan.tensors) tensors.push_back({t.name, t.dtype, t.shape});
  write_safetensors(tensors, metadata, output, save_options, [&](std::size_t i, ByteSink& out) {
    rows(i, [&](const at::Tensor& block) { out.append(block.data_ptr(), block.nbytes()); });
  });
}

CollectSummary merge(const fs::path& input_dir, const fs::path& output, const CollectOptions& options,
                     const SaveOptions& save_options) {
  const std::map<int, RankFiles> ranks = find_prediction_files(input_dir);
  std::vector<fs::path> files;
  for (const auto& [rank, found] : ranks) {
    if (found.epoch) {
      files.push_back(*found.epoch);
    } else {
      for (const auto& [batch, path] : found.batches) files.push_back(path);
    }
  }
  if (files.empty())
    throw DataError(fmt::format("{}: error: no prediction files (predictions__rank_R.pt or predictions__rank_R__batch_B.pt, or .safetensors)",
                                input_dir.string()));

  // First pass, one file at a time: the indices, and each file's structure as meta tensors.
  std::vector<c10::IValue> skeletons;
  std::vector<std::vector<StoredTensor>> stored;  // each file's tensors, as skeletons lists them
  std::vector<at::Tensor> indices;
  std::map<std::int64_t, fs::path> first_seen;
  std::vector<std::int64_t> duplicates;
  std::string duplicate_files;
  std::vector<std::string> ids;  // in the files' row order
  std::map<std::string, std::vector<std::int64_t>> unpadded;  // each unpadded output's row lengths, in the same order
  std::optional<fs::path> with_ids, without_ids;
  for (const fs::path& file : files) {
    auto [predictions, file_indices, file_ids, file_unpadded, file_stored] = read_prediction_file(file);
    if (file == files.front()) {
      for (const auto& [key, lengths] : file_unpadded) unpadded[key];
    }
    std::vector<std::string> these, first;
    for (const auto& [key, lengths] : file_unpadded) these.push_back(key);
    for (const auto& [key, lengths] : unpadded) first.push_back(key);
    if (these != first)
      throw DataError(fmt::format("{}: error: its unpadded outputs ({}) are not {}'s ({}); the files come from different jobs",
                                  file.string(), fmt::join(these, ", "), files.front().filename().string(), fmt::join(first, ", ")));
    for (auto& [key, lengths] : file_unpadded) unpadded[key].insert(unpadded[key].end(), lengths.begin(), lengths.end());
    if (file_ids) {
      ids.insert(ids.end(), std::make_move_iterator(file_ids->begin()), std::make_move_iterator(file_ids->end()));
      with_ids = file;
    } else {
      without_ids = file;
    }
    file_indices = file_indices.contiguous();
    for (const std::int64_t index : std::span(file_indices.data_ptr<std::int64_t>(), static_cast<std::size_t>(file_indices.numel()))) {
      const auto [it, inserted] = first_seen.emplace(index, file);
      if (!inserted) {
        if (duplicates.empty())
          duplicate_files = fmt::format(" (e.g. {} in {} and {})", index, it->second.filename().string(), file.filename().string());
        duplicates.push_back(index);
      }
    }
    indices.push_back(file_indices);
    stored.push_back(std::move(file_stored));
    skeletons.push_back(map_tensors(predictions, [](const at::Tensor& t) {
      return at::empty(t.sizes(), at::TensorOptions().dtype(t.scalar_type()).device(at::kMeta));
    }));
  }
  if (with_ids && without_ids)
    throw DataError(fmt::format("{}: error: {} has sample IDs ('{}') but {} has none; the files come from different "
                                "minitrain versions or jobs\n  fix: write them again with one version",
                                input_dir.string(), with_ids->filename().string(), kIdsKey, without_ids->filename().string()));
  // The gaps between the indices seen, counted rather than walked one by one:
  // a corrupt file may hold an index of 10^12.
  std::vector<std::int64_t> missing;
  std::int64_t missing_count = 0;
  std::int64_t next = 0;
  for (const auto& [index, file] : first_seen) {
    if (index < 0) continue;
    for (std::int64_t i = next; i < index && missing.size() < 10; ++i) missing.push_back(i);
    missing_count += index - next;
    next = index + 1;
  }
  if (missing_count > 0 || !duplicates.empty() || (!first_seen.empty() && first_seen.begin()->first < 0)) {
    std::string problem;
    if (missing_count > 0)
      problem += fmt::format("\n  missing dataset indices: {}; a rank's files may be missing or incomplete",
                             first_few(missing, missing_count));
    if (!first_seen.empty() && first_seen.begin()->first < 0)
      problem += fmt::format("\n  negative dataset index: {}", first_seen.begin()->first);
    if (!duplicates.empty())
      problem += fmt::format("\n  dataset indices found more than once: {}{}",
                             first_few(duplicates, static_cast<std::int64_t>(duplicates.size())), duplicate_files);
    throw DataError(fmt::format("{}: error: the {} files from {} rank(s) do not cover every sample exactly once{}",
                                input_dir.string(), files.size(), ranks.size(), problem));
  }

  // Where each meta tensor came from: its file and its place in that file's traversal.
  std::map<const c10::TensorImpl*, std::pair<std::size_t, std::size_t>> source_of;
  for (std::size_t f = 0; f < skeletons.size(); ++f) {
    std::size_t position = 0;
    for_each_tensor(skeletons[f], [&](const at::Tensor& t) { source_of[t.unsafeGetTensorImpl()] = {f, position++}; });
  }
  const at::Tensor all_indices = at::cat(indices);
  const at::Tensor order = all_indices.argsort();
  const CollationPlan plan = plan_collation(skeletons);
  const auto lengths_in_order = [&](const std::vector<std::int64_t>& lengths) {
    std::vector<std::int64_t> ordered;
    for (const std::int64_t row : std::span(order.data_ptr<std::int64_t>(), static_cast<std::size_t>(order.numel())))
      ordered.push_back(lengths[static_cast<std::size_t>(row)]);
    return ordered;
  };
  std::map<std::string, at::Tensor> out_offsets;
  std::map<const c10::StorageImpl*, const CollatedTensor*> tensor_of_storage;
  for (const CollatedTensor& tensor : plan.tensors) {
    if (unpadded.count(tensor.where)) {
      out_offsets.emplace(offsets_key(tensor.where), offsets_of(lengths_in_order(unpadded.at(tensor.where))));
    } else if (tensor.sizes.empty() || tensor.batch_dim != 0 || tensor.sizes[0] != order.numel())
      throw DataError(fmt::format("{}: error: '{}' has no row per sample (shape [{}]); collect puts rows in dataset order",
                                  input_dir.string(), tensor.where, fmt::join(tensor.sizes, ", ")));
    tensor_of_storage[tensor.placeholder.storage().unsafeGetStorageImpl()] = &tensor;
  }
  c10::impl::GenericDict out = plan.structure.toGenericDict();
  for (const auto& [key, offsets] : out_offsets) out.insert(key, offsets);
  out.insert(kBatchIndicesKey, all_indices.index_select(0, order));
  if (with_ids) {
    std::vector<std::string> ordered;
    ordered.reserve(ids.size());
    for (const std::int64_t row : std::span(order.data_ptr<std::int64_t>(), static_cast<std::size_t>(order.numel())))
      ordered.push_back(std::move(ids[static_cast<std::size_t>(row)]));
    out.insert(kIdsKey, ids_value(ordered));
  }

  // Second pass, one output tensor at a time: each output row's bytes are
  // read from where its file stores them, straight into a block of rows in
  // dataset order, so memory holds a block and the read windows, not a tensor.
  std::vector<std::size_t> first_row_of_file{0};  // global rows: the files' rows one after another
  for (const at::Tensor& file_indices : indices) first_row_of_file.push_back(first_row_of_file.back() + static_cast<std::size_t>(file_indices.numel()));
  std::vector<std::size_t> file_of_row(first_row_of_file.back());
  for (std::size_t f = 0; f < indices.size(); ++f)
    std::fill(file_of_row.begin() + static_cast<std::ptrdiff_t>(first_row_of_file[f]),
              file_of_row.begin() + static_cast<std::ptrdiff_t>(first_row_of_file[f + 1]), f);
  const std::span<const std::int64_t> rows_in_order(order.data_ptr<std::int64_t>(), static_cast<std::size_t>(order.numel()));
  FileRanges file_ranges;
  const auto rows_of = [&](const CollatedTensor& tensor, const std::function<void(const at::Tensor&)>& emit) {
    std::vector<const StoredTensor*> stored_by_file(files.size(), nullptr);
    for (const at::Tensor& source : tensor.sources) {
      const auto [file, position] = source_of.at(source.unsafeGetTensorImpl());
      stored_by_file[file] = &stored[file][position];
    }
    const std::vector<std::int64_t> padded_row(tensor.sizes.begin() + 1, tensor.sizes.end());
    const auto found = unpadded.find(tensor.where);
    if (found == unpadded.end()) {
      return emit_stored_rows(file_ranges, stored_by_file, order.numel(), [&](std::int64_t i) {
        const auto row = static_cast<std::size_t>(rows_in_order[static_cast<std::size_t>(i)]);
        const std::size_t file = file_of_row[row];
        return RowPlace{file, static_cast<std::int64_t>(row - first_row_of_file[file]), 1};
      }, tensor.dtype, padded_row, emit);
    }
    // An unpadded output: a row is its tokens, found from the row lengths, counted within each file.
    const std::vector<std::int64_t>& lengths = found->second;
    std::vector<std::int64_t> first_token(lengths.size());
    for (std::size_t f = 0; f < files.size(); ++f) {
      std::int64_t token = 0;
      for (std::size_t row = first_row_of_file[f]; row < first_row_of_file[f + 1]; ++row) {
        first_token[row] = token;
        token += lengths[row];
      }
    }
    emit_stored_rows(file_ranges, stored_by_file, order.numel(), [&](std::int64_t i) {
      const auto row = static_cast<std::size_t>(rows_in_order[static_cast<std::size_t>(i)]);
      return RowPlace{file_of_row[row], first_token[row], lengths[row]};
    }, tensor.dtype, padded_row, emit);
  };
  if (options.format == CollectFormat::pt) {
    write_torch_file(out, output, save_options, [&](TorchArchiveWriter& archive, const std::string& record, const c10::Storage& storage) {
      const auto found = tensor_of_storage.find(storage.unsafeGetStorageImpl());
      if (found == tensor_of_storage.end()) {  // batch_indices, already in memory
        archive.write_record(record, storage.data(), storage.nbytes());
        return;
      }
      archive.begin_record(record, storage.nbytes());
      rows_of(*found->second, [&](const at::Tensor& rows) { archive.append(rows.data_ptr(), rows.nbytes()); });
      archive.end_record();
    });
  } else {
    ExportPlan export_plan;
    std::vector<at::Tensor> in_memory;  // or undefined where the tensor is collated from the files
    std::vector<const CollatedTensor*> collated;
    for_each_named_tensor(out, [&](const std::string& name, const at::Tensor& t) {
      const auto found = tensor_of_storage.find(t.storage().unsafeGetStorageImpl());
      export_plan.tensors.push_back({name, t.scalar_type(), t.sizes().vec()});
      collated.push_back(found == tensor_of_storage.end() ? nullptr : found->second);
      in_memory.push_back(found == tensor_of_storage.end() ? t : at::Tensor());
    });
    if (with_ids) export_plan.ids = *ids_in(out, order.numel(), output);
    export_plan.rows = order.numel();
    write_export(export_plan, [&](std::size_t i, const std::function<void(const at::Tensor&)>& emit) {
      if (collated[i])
        rows_of(*collated[i], emit);
      else
        emit(in_memory[i]);
    }, output, options, save_options);
  }
  return {static_cast<std::int64_t>(first_seen.size()), static_cast<std::int64_t>(files.size()), static_cast<int>(ranks.size())};
}

// The manifest's check reads every file once more, so it runs beside the merge, on a thread of its
// own; the output takes its name only once the check has passed, and the check's error, if any, is
// the one reported.
CollectSummary collect(const fs::path& input_dir, const fs::path& output, const CollectOptions& options) {
  if (!fs::is_directory(input_dir)) throw DataError(fmt::format("{}: error: not a directory of prediction files", input_dir.string()));
  const std::shared_future<void> checked = std::async(std::launch::async, [input_dir] { check_against_manifest(input_dir); }).share();
  SaveOptions save_options;
  save_options.before_commit = [checked] { checked.get(); };
  try {
    return merge(input_dir, output, options, save_options);
  } catch (...) {
    checked.get();
    throw;
  }
}

}  // namespace

std::optional<CollectFormat> collect_format_named(const std::string& name) {
  if (name == "pt") return CollectFormat::pt;
  if (name == "safetensors") return CollectFormat::safetensors;
  if (name == "hdf5") return CollectFormat::hdf5;
  if (name == "h5ad") return CollectFormat::h5ad;
  return std::nullopt;
}

CollectFormat collect_format_for(const fs::path& output) {
  const std::string extension = output.extension().string();
  if (extension == ".safetensors") return CollectFormat::safetensors;
  if (extension == ".h5" || extension == ".hdf5") return CollectFormat::hdf5;
  if (extension == ".h5ad") return CollectFormat::h5ad;
  return CollectFormat::pt;
}

CollectSummary collect_predictions(const fs::path& input_dir, const fs::path& output, const CollectOptions& options) {
  try {
    return collect(input_dir, output, options);
  } catch (const c10::Error& e) {  // files that load but do not fit together in a way LibTorch itself refuses
    throw DataError(fmt::format("{}: error: the prediction files cannot be merged: {}", input_dir.string(),
                                e.what_without_backtrace()));
  }
}

}  // namespace minitrain
