#pragma once
// Unpadded per-token outputs: instead of [N, L, ...] padded to the longest
// sequence, one flat [total_tokens, ...] tensor under the output's key and
// int64 offsets [N+1] under "<key>_offsets": row i's tokens are
// flat[offsets[i]:offsets[i+1]]. A sequence's length is its attention_mask's
// count of ones (the mask a tokenizer right-pads with zeros).
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace minitrain {

std::string offsets_key(const std::string& key);  // "<key>_offsets"

// Every row's length: its mask's leading ones. Error when a row has a one
// after a zero (left padding, or a mask that is not a padding mask).
std::vector<std::int64_t> row_lengths(const at::Tensor& attention_mask);

// The rows' first `lengths[i]` positions along dim 1, one after another: [sum, ...].
// Error naming `key` unless `padded` is [lengths.size(), length, ...], as the mask is.
at::Tensor unpad_rows(const at::Tensor& padded, const std::vector<std::int64_t>& lengths, std::int64_t length,
                      const std::string& key);

// [0, l0, l0 + l1, ...]: int64 [lengths + 1].
at::Tensor offsets_of(const std::vector<std::int64_t>& lengths);

// The lengths that `offsets` stands for when it is offsets into `flat` for
// `rows` rows (1-D int64 of rows + 1 from 0 to flat's length, never falling);
// nullopt otherwise.
std::optional<std::vector<std::int64_t>> lengths_of(const at::Tensor& offsets, const at::Tensor& flat, std::int64_t rows);

}  // namespace minitrain
