#pragma once
// Epoch collation, following BioNeMo's batch_collator: None items are
// skipped; dicts, lists and tuples are collated recursively; tensors are
// concatenated along the batch dim; when sequence lengths differ they are
// right-padded with zeros along the sequence dim; 0-d tensors become [1] and
// 1-D tensors concatenate directly. A dict key found in the per-key maps sets
// the dims for everything below it; other keys keep their parent's dims.
//
// Two ways to run it, sharing one traversal and one set of shape rules:
// batch_collator does it in memory; plan_collation only works out the result's
// structure and shapes, for writers that stream the data from files.
#include <ATen/core/ivalue.h>

#include <cstdint>
#include <map>
#include <optional>
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

// One tensor of the collated result.
struct CollatedTensor {
  std::string where;                     // e.g. "token_logits", "pair[0]"
  at::ScalarType dtype;
  std::vector<std::int64_t> sizes;       // of the result
  std::int64_t batch_dim;                // in the result, wrapped to >= 0
  std::optional<std::int64_t> seq_dim;   // padded dim; unset for 1-D tensors
  std::vector<at::Tensor> sources;       // the batches' tensors, in order (0-d ones as they were)
  at::Tensor placeholder;                // an uninitialised CPU tensor of the result's shape, in `structure`
};

struct CollationPlan {
  c10::IValue structure;                // the result with placeholders in place of the tensors
  std::vector<CollatedTensor> tensors;  // in traversal order
};

// The shape of batch_collator's result without computing it. The batches'
// tensors are only looked at for their sizes and dtype (meta tensors will do).
// Tensors to concatenate must share a dtype. Throws like batch_collator.
CollationPlan plan_collation(const std::vector<c10::IValue>& batches, const CollateOptions& options = {});

}  // namespace minitrain
