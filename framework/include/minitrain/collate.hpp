#pragma once
// Epoch collation, following BioNeMo's batch_collator: None items are
// skipped; dicts, lists and tuples are collated recursively; tensors are
// concatenated along the batch dim; when sequence lengths differ they are
// right-padded with zeros along the sequence dim; 0-d tensors become [1] and
// 1-D tensors concatenate directly. Per-key dims override the defaults for a
// dict key at any depth.
#include <ATen/core/ivalue.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace minitrain {

using DimByKey = std::map<std::string, std::int64_t>;

struct CollateOptions {
  std::int64_t batch_dim = 0;
  std::int64_t seq_dim = 1;
  DimByKey batch_dim_key_defaults;
  DimByKey seq_dim_key_defaults;
};

// Throws Error on an empty input, mismatched structure or unsupported types.
c10::IValue batch_collator(const std::vector<c10::IValue>& batches, const CollateOptions& options = {});

}  // namespace minitrain
