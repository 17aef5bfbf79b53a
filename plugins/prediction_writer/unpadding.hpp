#pragma once
// The writer's unpadded_keys: outputs [batch, length, ...] replaced by their
// flat tokens and offsets (minitrain/io/unpadded.hpp), lengths from the batch's
// attention_mask.
#include <ATen/core/ivalue.h>

#include <string>
#include <vector>

#include "minitrain/data/data.hpp"

namespace minitrain {

// The batch's padding mask; an Error naming the fields there are when it has none.
const at::Tensor& attention_mask_of(const Batch& batch);

// Replaces each of `keys` in `out` by its flat tokens and adds "<key>_offsets".
// Error for a key that is not a tensor output, or whose offsets key is taken.
void unpad_outputs(c10::impl::GenericDict& out, const std::vector<std::string>& keys, const Batch& batch);

}  // namespace minitrain
