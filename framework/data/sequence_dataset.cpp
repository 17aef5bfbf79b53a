#include "minitrain/data/sequence_dataset.hpp"

#include <ATen/ATen.h>

#include <cctype>

namespace minitrain {

std::optional<std::size_t> append_residues(std::string_view text, std::string& out) {
  for (std::size_t at = 0; at < text.size(); ++at) {
    const char c = text[at];
    if (std::isspace(static_cast<unsigned char>(c)) || c == '-' || c == '.') continue;
    if (c == '*' && text.find_first_not_of(" \t\r", at + 1) == std::string_view::npos) continue;  // translation stop
    if (!AminoAcidTokenizer::is_residue_char(c)) return at;
    out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return std::nullopt;
}

SequenceRecords::~SequenceRecords() = default;

SequencesInMemory::SequencesInMemory(std::vector<std::string> ids, std::vector<std::string> sequences)
    : ids_(std::move(ids)), sequences_(std::move(sequences)) {}

std::string SequencesInMemory::id(std::int64_t index) const {
  return ids_.empty() ? std::string() : ids_.at(static_cast<std::size_t>(index));
}

std::string SequencesInMemory::residues(std::int64_t index, std::int64_t count) const {
  return sequences_.at(static_cast<std::size_t>(index)).substr(0, static_cast<std::size_t>(count));
}

std::int64_t SequencesInMemory::length(std::int64_t index) const {
  return static_cast<std::int64_t>(sequences_.at(static_cast<std::size_t>(index)).size());
}

SequenceDataset::SequenceDataset(std::shared_ptr<const SequenceRecords> records, std::int64_t max_length, Padding padding)
    : records_(std::move(records)), max_length_(max_length), padding_(padding) {}

std::int64_t SequenceDataset::size() const { return records_->size(); }

std::string SequenceDataset::sample_id(std::int64_t index) const {
  std::string id = records_->id(index);
  return id.empty() ? Dataset::sample_id(index) : id;
}

std::optional<std::int64_t> SequenceDataset::tokens(std::int64_t index) const {
  if (padding_ == Padding::max_length) return max_length_;
  return std::min(records_->length(index) + 2, max_length_);
}

Batch SequenceDataset::get_batch(std::span<const std::int64_t> indices) const {
  std::vector<std::vector<std::int64_t>> encoded;
  encoded.reserve(indices.size());
  std::int64_t longest = 0;
  // <cls> and <eos> take two of max_length's tokens; only the residues that fit are read.
  const std::int64_t fitting = std::max<std::int64_t>(max_length_ - 2, 0);
  for (std::int64_t index : indices) {
    encoded.push_back(tokenizer_.encode(records_->residues(index, fitting), max_length_));
    longest = std::max<std::int64_t>(longest, static_cast<std::int64_t>(encoded.back().size()));
  }
  const std::int64_t length = padding_ == Padding::longest ? longest : max_length_;
  const auto rows = static_cast<std::int64_t>(indices.size());
  at::Tensor input_ids = at::full({rows, length}, AminoAcidTokenizer::kPad, at::kLong);
  at::Tensor attention_mask = at::zeros({rows, length}, at::kBool);
  auto ids = input_ids.accessor<std::int64_t, 2>();
  auto mask = attention_mask.accessor<bool, 2>();
  for (std::int64_t row = 0; row < rows; ++row) {
    const auto& tokens = encoded[static_cast<std::size_t>(row)];
    for (std::size_t col = 0; col < tokens.size(); ++col) {
      ids[row][static_cast<std::int64_t>(col)] = tokens[col];
      mask[row][static_cast<std::int64_t>(col)] = true;
    }
  }
  Batch batch;
  batch.indices.assign(indices.begin(), indices.end());
  batch.fields["input_ids"] = input_ids;
  batch.fields["attention_mask"] = attention_mask;
  return batch;
}

}  // namespace minitrain
