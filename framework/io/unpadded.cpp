#include "minitrain/io/unpadded.hpp"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "minitrain/base/error.hpp"

namespace minitrain {

std::string offsets_key(const std::string& key) { return key + "_offsets"; }

std::vector<std::int64_t> row_lengths(const at::Tensor& attention_mask) {
  if (attention_mask.dim() != 2)
    throw Error(fmt::format("unpadded outputs: attention_mask has {} dims, expected [batch, length]", attention_mask.dim()));
  const at::Tensor mask = attention_mask.ne(0).to(at::kLong).cpu();
  const at::Tensor lengths = mask.sum(1);
  // Right-padded: the ones come first, so the first `length` positions are all ones.
  const at::Tensor positions = at::arange(mask.size(1), at::kLong).unsqueeze(0);
  if (!at::equal(mask, positions.lt(lengths.unsqueeze(1)).to(at::kLong)))
    throw Error("unpadded outputs: attention_mask has a real token after padding in some row; unpadded_keys needs "
                "right-padded sequences\n  fix: pad on the right, or leave unpadded_keys unset");
  return {lengths.data_ptr<std::int64_t>(), lengths.data_ptr<std::int64_t>() + lengths.numel()};
}

at::Tensor unpad_rows(const at::Tensor& padded, const std::vector<std::int64_t>& lengths, std::int64_t length,
                      const std::string& key) {
  const auto rows = static_cast<std::int64_t>(lengths.size());
  if (padded.dim() < 2 || padded.size(0) != rows || padded.size(1) != length)
    throw Error(fmt::format("prediction_writer: unpadded_keys names '{}', of shape [{}], which is not [batch ({}), length "
                            "({}), ...] like the batch's attention_mask\n  fix: name only per-token outputs in unpadded_keys",
                            key, fmt::join(padded.sizes(), ", "), rows, length));
  std::vector<at::Tensor> pieces;
  pieces.reserve(lengths.size());
  for (std::int64_t i = 0; i < rows; ++i) pieces.push_back(padded[i].narrow(0, 0, lengths[static_cast<std::size_t>(i)]));
  return at::cat(pieces);
}

at::Tensor offsets_of(const std::vector<std::int64_t>& lengths) {
  std::vector<std::int64_t> offsets(lengths.size() + 1, 0);
  for (std::size_t i = 0; i < lengths.size(); ++i) offsets[i + 1] = offsets[i] + lengths[i];
  return at::tensor(offsets, at::kLong);
}

std::optional<std::vector<std::int64_t>> lengths_of(const at::Tensor& offsets, const at::Tensor& flat, std::int64_t rows) {
  if (offsets.dim() != 1 || offsets.scalar_type() != at::kLong || offsets.numel() != rows + 1 || flat.dim() < 1) return std::nullopt;
  const at::Tensor o = offsets.contiguous();
  const std::int64_t* p = o.data_ptr<std::int64_t>();
  if (p[0] != 0 || p[rows] != flat.size(0)) return std::nullopt;
  std::vector<std::int64_t> lengths(static_cast<std::size_t>(rows));
  for (std::int64_t i = 0; i < rows; ++i) {
    if (p[i + 1] < p[i]) return std::nullopt;
    lengths[static_cast<std::size_t>(i)] = p[i + 1] - p[i];
  }
  return lengths;
}

}  // namespace minitrain
