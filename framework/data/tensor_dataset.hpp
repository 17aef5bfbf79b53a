#pragma once
// A dataset of named, equally long tensors held in memory: row i of every
// tensor is sample i. It is what a torch.save file of tensors and a CSV/TSV
// table become.
#include <ATen/core/Tensor.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "minitrain/data/data.hpp"

namespace minitrain {

class TensorDataset : public Dataset {
 public:
  // Throws Error when `columns` is empty or their first dimensions differ, or
  // when `ids` (empty: the indices) is not one per row.
  explicit TensorDataset(std::map<std::string, at::Tensor> columns, std::vector<std::string> ids = {});

  std::int64_t size() const override;
  // Every column's rows for `indices`, under the column's name.
  Batch get_batch(std::span<const std::int64_t> indices) const override;
  std::string sample_id(std::int64_t index) const override;
  const std::map<std::string, at::Tensor>& columns() const { return columns_; }

 private:
  std::map<std::string, at::Tensor> columns_;
  std::vector<std::string> ids_;
  std::int64_t size_ = 0;
};

// A file written by Python's torch.save({"name": tensor, ...}): a dict of
// tensors with one row per sample. `keys` picks some of them (empty: all but
// `ids_key`); `ids_key`, if not empty, names the entry holding the sample IDs:
// a list of strings, or a 1-D tensor of integers. Throws DataError naming the
// file and the key that does not fit.
TensorDataset load_tensor_file(const std::filesystem::path& path, const std::vector<std::string>& keys = {},
                               const std::string& ids_key = "");

}  // namespace minitrain
