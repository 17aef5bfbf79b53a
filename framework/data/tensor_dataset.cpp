#include "minitrain/data/tensor_dataset.hpp"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "minitrain/base/error.hpp"
#include "minitrain/io/serialization.hpp"

namespace minitrain {

namespace fs = std::filesystem;

TensorDataset::TensorDataset(std::map<std::string, at::Tensor> columns) : columns_(std::move(columns)) {
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
}

std::int64_t TensorDataset::size() const { return size_; }

Batch TensorDataset::get_batch(std::span<const std::int64_t> indices) const {
  Batch batch;
  batch.indices.assign(indices.begin(), indices.end());
  const at::Tensor rows = at::tensor(batch.indices, at::kLong);
  for (const auto& [name, tensor] : columns_) batch.fields[name] = tensor.index_select(0, rows);
  return batch;
}

TensorDataset load_tensor_file(const fs::path& path, const std::vector<std::string>& keys) {
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
    return TensorDataset(std::move(chosen));
  } catch (const DataError&) {
    throw;
  } catch (const Error& e) {
    throw DataError(fmt::format("{}: error: {}", path.string(), e.what()));
  }
}

}  // namespace minitrain
