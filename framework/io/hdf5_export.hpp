#pragma once
// collect's HDF5 outputs, written with the HDF5 C library:
//   hdf5  one dataset per output key ([N, ...], nested keys named
//         "outer.inner"), batch_indices, and ids (UTF-8 strings), at the root
//   h5ad  an AnnData file (anndata's on-disk layout 0.1.0): one pooled
//         output as .X, every other per-row output with more than one dim in
//         .obsm, 1-D ones as .obs columns, the IDs as obs_names
// Each tensor's rows arrive a chunk at a time and are written into their
// place in the file, so memory holds one chunk, not the dataset. float16
// stays float16; bfloat16, which numpy has no type for, is widened to
// float32 (exactly). The file is written under a temporary name and renamed
// once complete.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "minitrain/io/atomic_file.hpp"

namespace minitrain {

struct ExportTensor {
  std::string name;
  at::ScalarType dtype;
  std::vector<std::int64_t> shape;  // [N, ...]
};

struct ExportPlan {
  std::vector<ExportTensor> tensors;  // batch_indices among them
  std::vector<std::string> ids;       // one per row; empty when the files had none
  std::int64_t rows = 0;              // samples: tensors with another first dim are per token (unpadded outputs)
};

// Calls emit(rows) with consecutive row blocks of tensor i, from row 0 to N.
using RowSource = std::function<void(std::size_t tensor, const std::function<void(const at::Tensor& rows)>& emit)>;

// Both write `path` atomically (`options.before_commit` runs before it takes its name).
void export_hdf5(const ExportPlan& plan, const RowSource& rows, const std::filesystem::path& path,
                 const SaveOptions& options = {});

// x_key: the output for .X (null: the first floating-point one with two dims).
void export_h5ad(const ExportPlan& plan, const RowSource& rows, const std::filesystem::path& path,
                 const std::optional<std::string>& x_key, const SaveOptions& options = {});

}  // namespace minitrain
