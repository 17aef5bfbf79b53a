#pragma once
// Protein sequences, tokenized the same way whatever holds them: a FASTA file
// read into memory (plain or gzip), an indexed FASTA file read on demand
// (fasta_index.hpp), or a table's sequence column (table_file.hpp).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "minitrain/data/data.hpp"
#include "minitrain/data/tokenizer.hpp"

namespace minitrain {

// Appends the residues of `text`, upper case, to `out`: blanks and alignment
// gaps (- .) carry no residue and a final '*' is a translation stop. Returns
// the 0-based position of the first character that is none of these.
std::optional<std::size_t> append_residues(std::string_view text, std::string& out);

// The records behind a sequence dataset.
class SequenceRecords {
 public:
  virtual ~SequenceRecords();
  virtual std::int64_t size() const = 0;
  // The record's sample ID; empty: the index names it.
  virtual std::string id(std::int64_t index) const = 0;
  // Its first `count` residues (fewer when it is shorter).
  virtual std::string residues(std::int64_t index, std::int64_t count) const = 0;
  // How many residues it has, without reading them.
  virtual std::int64_t length(std::int64_t index) const = 0;
};

// Records held in memory, one ID and one sequence each.
class SequencesInMemory : public SequenceRecords {
 public:
  SequencesInMemory(std::vector<std::string> ids, std::vector<std::string> sequences);
  std::int64_t size() const override { return static_cast<std::int64_t>(sequences_.size()); }
  std::string id(std::int64_t index) const override;
  std::string residues(std::int64_t index, std::int64_t count) const override;
  std::int64_t length(std::int64_t index) const override;

 private:
  std::vector<std::string> ids_;
  std::vector<std::string> sequences_;
};

enum class Padding {
  longest,     // pad each batch to its longest sequence
  max_length,  // pad every batch to max_length
};

class SequenceDataset : public Dataset {
 public:
  SequenceDataset(std::shared_ptr<const SequenceRecords> records, std::int64_t max_length, Padding padding);

  std::int64_t size() const override;
  // input_ids [B, L] int64 (<cls> residues <eos>, cut to max_length) and attention_mask [B, L] bool.
  Batch get_batch(std::span<const std::int64_t> indices) const override;
  std::string sample_id(std::int64_t index) const override;
  // <cls> residues <eos> cut to max_length, or max_length with padding: max_length.
  std::optional<std::int64_t> tokens(std::int64_t index) const override;
  const AminoAcidTokenizer& tokenizer() const { return tokenizer_; }

 private:
  std::shared_ptr<const SequenceRecords> records_;
  std::int64_t max_length_;
  Padding padding_;
  AminoAcidTokenizer tokenizer_;
};

}  // namespace minitrain
