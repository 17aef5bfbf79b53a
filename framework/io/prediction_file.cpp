#include "minitrain/io/prediction_file.hpp"

#include <ATen/ATen.h>
#include <caffe2/serialize/inline_container.h>
#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <optional>
#include <sstream>

#include "minitrain/base/error.hpp"
#include "minitrain/io/ivalue_tree.hpp"
#include "minitrain/io/pickled_layout.hpp"
#include "minitrain/io/prediction_ids.hpp"
#include "minitrain/io/safetensors_file.hpp"
#include "minitrain/io/serialization.hpp"

namespace minitrain {

namespace fs = std::filesystem;

namespace {

constexpr const char* kIdsFileMetadata = "ids_file";  // names the sidecar in a .safetensors file's __metadata__

void flatten_into(const c10::IValue& value, const std::string& name, c10::impl::GenericDict& out) {
  const auto join = [&](const std::string& part) { return name.empty() ? part : name + "." + part; };
  if (value.isTensor()) {
    out.insert(name, value);
  } else if (value.isGenericDict()) {
    for (const auto& entry : value.toGenericDict()) flatten_into(entry.value(), join(entry.key().toStringRef()), out);
  } else if (value.isList() || value.isTuple()) {
    const auto items = value.isList() ? value.toListRef() : value.toTupleRef().elements();
    for (std::size_t i = 0; i < items.size(); ++i) flatten_into(items[i], join(std::to_string(i)), out);
  } else {
    throw Error(fmt::format("prediction_writer: '{}' is a {}, and format: safetensors holds only tensors\n  fix: return it "
                            "as a tensor, leave it out with keys:, or write format: pt",
                            name, value.tagKind()));
  }
}

std::vector<std::uint64_t> pt_tensor_offsets(const c10::IValue& value, const fs::path& file) {
  std::vector<const c10::StorageImpl*> storages;  // in record order, as the Pickler met them
  for_each_tensor(value, [&](const at::Tensor& t) {
    const c10::StorageImpl* storage = t.storage().unsafeGetStorageImpl();
    if (std::find(storages.begin(), storages.end(), storage) == storages.end()) storages.push_back(storage);
  });
  std::vector<std::uint64_t> offsets;
  try {
    caffe2::serialize::PyTorchStreamReader reader(file.string());
    for_each_tensor(value, [&](const at::Tensor& t) {
      const auto index = std::find(storages.begin(), storages.end(), t.storage().unsafeGetStorageImpl()) - storages.begin();
      const std::string record = fmt::format("data/{}", index);
      if (!reader.hasRecord(record)) throw DataError(fmt::format("{}: error: no record {} for a tensor", file.string(), record));
      offsets.push_back(reader.getRecordOffset(record) + static_cast<std::uint64_t>(t.storage_offset()) * t.element_size());
    });
  } catch (const c10::Error& e) {
    throw DataError(fmt::format("{}: error: not a readable torch.save file: {}", file.string(), e.what_without_backtrace()));
  }
  return offsets;
}

std::string read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw DataError(fmt::format("{}: error: no such file", file.string()));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// `read` says which tensors' data to read; the others are untouched memory.
c10::impl::GenericDict load_safetensors_prediction(const fs::path& path, std::vector<std::uint64_t>* offsets,
                                                   const std::function<bool(const std::string&)>& read = {}) {
  const SafetensorsContents contents = read_safetensors_header(path);
  c10::impl::GenericDict dict(c10::StringType::get(), c10::AnyType::get());
  for (const SafetensorsEntry& entry : contents.entries) {
    const bool wanted = !read || read(entry.tensor.name);
    dict.insert(entry.tensor.name, wanted ? read_safetensors_tensor(path, entry)
                                          : untouched_tensor(entry.tensor.shape, entry.tensor.dtype));
    if (offsets) offsets->push_back(entry.offset);
  }
  const auto ids_file = contents.metadata.find(kIdsFileMetadata);
  if (ids_file != contents.metadata.end() && dict.contains(kBatchIndicesKey)) {
    const fs::path sidecar = path.parent_path() / ids_file->second;
    if (ids_file->second != ids_sidecar_of(path).filename().string() || !fs::exists(sidecar))
      throw DataError(fmt::format("{}: error: its sample IDs should be in {}, which is missing\n  fix: write the "
                                  "predictions again (resume: true rewrites only what is missing)",
                                  path.string(), ids_sidecar_of(path).string()));
    dict.insert(kIdsKey, ids_value(ids_from_json(read_text(sidecar), dict.at(kBatchIndicesKey).toTensor().numel(), sidecar)));
  }
  return dict;
}

}  // namespace

c10::impl::GenericDict flat_prediction_tensors(const c10::impl::GenericDict& dict) {
  c10::impl::GenericDict out(c10::StringType::get(), c10::AnyType::get());
  for (const auto& entry : dict) {
    if (entry.key().toStringRef() == kIdsKey)
      out.insert(entry.key(), entry.value());
    else
      flatten_into(entry.value(), entry.key().toStringRef(), out);
  }
  return out;
}

std::vector<std::uint64_t> save_prediction_file(const c10::impl::GenericDict& dict, const fs::path& path,
                                                PredictionFormat format, const SaveOptions& options,
                                                std::optional<FileSum>* sum) {
  if (format == PredictionFormat::pt) {
    FileSum written;
    std::vector<std::uint64_t> offsets = save_pickled(dict, path, options, &written);
    if (sum) *sum = written;
    return offsets;
  }
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  std::optional<std::vector<std::string>> ids;
  for (const auto& entry : dict) {
    if (entry.key().toStringRef() != kIdsKey) {
      tensors.emplace_back(entry.key().toStringRef(), entry.value().toTensor());
      continue;
    }
    ids.emplace();
    for (const c10::IValue& id : entry.value().toListRef()) ids->push_back(id.toStringRef());
  }
  return save_safetensors(tensors, write_ids_sidecar(path, ids ? &*ids : nullptr, options), path, options);
}

std::map<std::string, std::string> prediction_metadata(const fs::path& path, bool with_ids) {
  std::map<std::string, std::string> metadata{{"format", "pt"}};
  if (with_ids) metadata[kIdsFileMetadata] = ids_sidecar_of(path).filename().string();
  return metadata;
}

std::map<std::string, std::string> write_ids_sidecar(const fs::path& path, const std::vector<std::string>* ids,
                                                     const SaveOptions& options) {
  if (ids) write_file_atomically(ids_sidecar_of(path), ids_to_json(*ids), options);
  return prediction_metadata(path, ids != nullptr);
}

namespace {

bool is_safetensors(const fs::path& path) {
  const auto name = parse_prediction_file_name(path.filename().string());
  return name && name->format == PredictionFormat::safetensors;
}

// What load_prediction_file promises of the dict it returns.
void check_prediction_dict(const c10::impl::GenericDict& dict, const fs::path& path) {
  if (!dict.contains(kBatchIndicesKey))
    throw DataError(fmt::format("{}: error: not a prediction file (a dict with batch_indices)", path.string()));
  const c10::IValue& batch_indices = dict.at(kBatchIndicesKey);
  if (!batch_indices.isTensor() || !at::isIntegralType(batch_indices.toTensor().scalar_type(), /*includeBool=*/false))
    throw DataError(fmt::format("{}: error: batch_indices is not a tensor of integers", path.string()));
  ids_in(dict, batch_indices.toTensor().numel(), path);  // refuses IDs that do not match the rows
}

}  // namespace

c10::impl::GenericDict load_prediction_file(const fs::path& path, std::vector<std::uint64_t>* tensor_offsets) {
  c10::impl::GenericDict dict(c10::StringType::get(), c10::AnyType::get());
  if (is_safetensors(path)) {
    dict = load_safetensors_prediction(path, tensor_offsets);
  } else {
    const c10::IValue loaded = load_pickled(path);
    if (loaded.isGenericDict()) dict = loaded.toGenericDict();
    if (tensor_offsets && loaded.isGenericDict()) *tensor_offsets = pt_tensor_offsets(loaded, path);
  }
  check_prediction_dict(dict, path);
  return dict;
}

PredictionLayout load_prediction_layout(const fs::path& path, const std::function<bool(const std::string&)>& needs_data) {
  const auto wanted = [&](const std::string& key) { return key == kBatchIndicesKey || needs_data(key); };
  PredictionLayout layout{c10::impl::GenericDict(c10::StringType::get(), c10::AnyType::get()), {}};
  if (is_safetensors(path)) {
    std::vector<std::uint64_t> offsets;
    layout.dict = load_safetensors_prediction(path, &offsets, wanted);
    layout.tensor_offsets.assign(offsets.begin(), offsets.end());
  } else {
    const PickledLayout pickled(path);
    if (pickled.value().isGenericDict()) layout.dict = pickled.value().toGenericDict();
    for (const auto& entry : layout.dict) {
      const bool whole = entry.key().isString() && wanted(entry.key().toStringRef());
      for_each_tensor(entry.value(), [&](const at::Tensor& t) {
        if (whole || !t.is_contiguous()) pickled.read_data(t);
      });
    }
    for_each_tensor(layout.dict, [&](const at::Tensor& t) { layout.tensor_offsets.push_back(pickled.offset_of(t)); });
  }
  check_prediction_dict(layout.dict, path);
  return layout;
}

}  // namespace minitrain
