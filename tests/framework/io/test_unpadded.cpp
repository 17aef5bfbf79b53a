// Unpadded per-token outputs: lengths from the mask, flat tokens, offsets,
// and the order collect puts rows in.
#include <ATen/ATen.h>

#include "minitrain/base/error.hpp"
#include "minitrain/io/unpadded.hpp"

#include "doctest_torch.hpp"

using namespace minitrain;

TEST_CASE("flat tokens and offsets from a right-padded attention_mask") {
  const at::Tensor mask = at::tensor({1, 1, 1, 0, 1, 0, 0, 0, 1, 1, 1, 1}, at::kLong).view({3, 4});
  const std::vector<std::int64_t> lengths = row_lengths(mask);
  CHECK(lengths == std::vector<std::int64_t>{3, 1, 4});
  const at::Tensor padded = at::arange(24, at::kFloat).view({3, 4, 2});
  const at::Tensor flat = unpad_rows(padded, lengths, 4, "logits");
  CHECK(flat.sizes() == at::IntArrayRef({8, 2}));
  CHECK(at::equal(flat[3], padded[1][0]));
  CHECK(at::equal(flat[4], padded[2][0]));
  const at::Tensor offsets = offsets_of(lengths);
  CHECK(at::equal(offsets, at::tensor({0, 3, 4, 8}, at::kLong)));
  CHECK(lengths_of(offsets, flat, 3) == lengths);
  // Offsets that do not fit the flat tensor or the rows are not offsets.
  CHECK_FALSE(lengths_of(offsets, flat, 2).has_value());
  CHECK_FALSE(lengths_of(at::tensor({0, 5, 4, 8}, at::kLong), flat, 3).has_value());
  CHECK_FALSE(lengths_of(at::tensor({0, 3, 4, 9}, at::kLong), flat, 3).has_value());
  CHECK_FALSE(lengths_of(offsets.to(at::kInt), flat, 3).has_value());
}

TEST_CASE("unpadding refuses left padding and outputs that are not per token") {
  CHECK_THROWS_WITH_AS(row_lengths(at::tensor({0, 1, 1, 1}, at::kLong).view({1, 4})),
                       doctest::Contains("a real token after padding"), Error);
  CHECK_THROWS_WITH_AS(unpad_rows(at::ones({2, 64}), {3, 2}, 5, "embeddings"),
                       doctest::Contains("'embeddings', of shape [2, 64], which is not [batch (2), length (5), ...]"), Error);
}
