#include "minitrain/data/tensor_dataset.hpp"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <span>

#include "minitrain/base/error.hpp"
#include "minitrain/io/serialization.hpp"

namespace minitrain {

namespace fs = std::filesystem;

TensorDataset::TensorDataset(std::map<std::string, at::Tensor> columns, std::vector<std::string> ids)
    : columns_(std::move(columns)), ids_(std::move(ids)) {
  if (columns_.empty()) throw Error("a tensor dataset needs at least one tensor");
  for (const auto& [name, tensor] : columns_) {
    if (tensor.dim() == 0) throw Error(fmt::format("tensor '{}' is a scalar; every tensor needs one row per sample", name));
  }
  const auto& [first_name, first] = *columns_.begin();
  size_ = first.size(0);
  for (const auto& [name, tensor] : columns_) {
    if (tensor.size(0) != size_)
      throw Error(fmt::format("tensor '{}' has {} rows but '{}' has {}; every tensor needs one row per sample", name,
                              tensor.size(0), first_name, size_));
  }
  if (!ids_.empty() && static_cast<std::int64_t>(ids_.size()) != size_)
    throw Error(fmt::format("there are {} sample IDs for {} rows; every row needs one", ids_.size(), size_));
}

std::string TensorDataset::sample_id(std::int64_t index) const {
  return ids_.empty() ? Dataset::sample_id(index) : ids_.at(static_cast<std::size_t>(index));
}

std::int64_t TensorDataset::size() const { return size_; }

Batch TensorDataset::get_batch(std::span<const std::int64_t> indices) const {
  Batch batch;
  batch.indices.assign(indices.begin(), indices.end());
  const at::Tensor rows = at::tensor(batch.indices, at::kLong);
  for (const auto& [name, tensor] : columns_) batch.fields[name] = tensor.index_select(0, rows);
  return batch;
}

namespace {

// The IDs entry of a tensor file: a list of strings, or a 1-D tensor of integers.
std::vector<std::string> ids_from(const c10::IValue& value, const fs::path& path, const std::string& key) {
  std::vector<std::string> ids;
  if (value.isList()) {
    for (const c10::IValue& item : value.toListRef()) {
      if (!item.isString())
        throw DataError(fmt::format("{}: error: ids_key '{}' is a list holding a {}; sample IDs are strings", path.string(),
                                    key, item.tagKind()));
      ids.push_back(item.toStringRef());
    }
    return ids;
  }
  if (value.isTensor() && value.toTensor().dim() == 1 &&
      at::isIntegralType(value.toTensor().scalar_type(), /*includeBool=*/false)) {
    const at::Tensor numbers = value.toTensor().to(at::kLong).contiguous();
    for (const std::int64_t number : std::span(numbers.data_ptr<std::int64_t>(), static_cast<std::size_t>(numbers.numel())))
      ids.push_back(std::to_string(number));
    return ids;
  }
  throw DataError(fmt::format("{}: error: ids_key '{}' is a {}; it must be a list of strings or a 1-D tensor of integers",
                              path.string(), key, value.isTensor() ? "tensor of another shape or dtype" : value.tagKind()));
}

}  // namespace

TensorDataset load_tensor_file(const fs::path& path, const std::vector<std::string>& keys, const std::string& ids_key) {
  if (!fs::is_regular_file(path))
    throw DataError(fmt::format("{}: error: tensor file not found\n  fix: check the tensors path in the data section "
                                "of the job file",
                                path.string()));
  const c10::IValue loaded = load_pickled(path);  // its errors name the file and the reason
  if (!loaded.isGenericDict())
    throw DataError(fmt::format("{}: error: expected a dict of tensors (torch.save({{'name': tensor, ...}})), got a {}",
                                path.string(), loaded.tagKind()));
  const auto dict = loaded.toGenericDict();
  std::vector<std::string> names;
  for (const auto& item : dict) names.push_back(item.key().isString() ? item.key().toStringRef() : "?");
  std::vector<std::string> ids;
  if (!ids_key.empty()) {
    if (!dict.contains(ids_key))
      throw DataError(fmt::format("{}: error: no entry '{}' (ids_key) in the file; it has: {}", path.string(), ids_key,
                                  fmt::join(names, ", ")));
    ids = ids_from(dict.at(ids_key), path, ids_key);
    if (keys.empty()) std::erase(names, ids_key);
  }
  std::map<std::string, at::Tensor> chosen;
  for (const std::string& key : keys.empty() ? names : keys) {
    if (!dict.contains(key))
      throw DataError(fmt::format("{}: error: no tensor '{}' in the file; it has: {}", path.string(), key, fmt::join(names, ", ")));
    const c10::IValue& value = dict.at(key);
    if (!value.isTensor())
      throw DataError(fmt::format("{}: error: expected a dict of name: tensor, but entry '{}' is a {}{}", path.string(), key,
                                  value.tagKind(), keys.empty() ? "; pick the tensors with keys: [...]" : ""));
    chosen[key] = value.toTensor();
  }
  try {
    return TensorDataset(std::move(chosen), std::move(ids));
  } catch (const DataError&) {
    throw;
  } catch (const Error& e) {
    throw DataError(fmt::format("{}: error: {}", path.string(), e.what()));
  }
}

}  // namespace minitrain
