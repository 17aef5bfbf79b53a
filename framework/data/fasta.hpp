#pragma once
// FASTA reading and a tokenized FASTA dataset. Multi-line records are joined;
// headers are kept; malformed input is a DataError naming file and line.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "minitrain/data/data.hpp"
#include "minitrain/data/tokenizer.hpp"

namespace minitrain {

struct FastaRecord {
  std::string header;    // the text after '>', without trailing spaces
  std::string sequence;  // residues, upper case, line breaks removed
  std::int64_t line;     // 1-based line of the header
};

std::vector<FastaRecord> read_fasta(const std::filesystem::path& path);

enum class Padding {
  longest,     // pad each batch to its longest sequence
  max_length,  // pad every batch to max_length
};

class FastaDataset : public Dataset {
 public:
  FastaDataset(std::vector<FastaRecord> records, std::int64_t max_length, Padding padding);

  std::int64_t size() const override;
  // input_ids [B, L] int64 and attention_mask [B, L] bool.
  Batch get_batch(std::span<const std::int64_t> indices) const override;
  // The header's first word (UniProt's "sp|P69905|HBA_HUMAN"), or the index when the header is blank.
  std::string sample_id(std::int64_t index) const override;
  const FastaRecord& record(std::int64_t index) const;
  const AminoAcidTokenizer& tokenizer() const { return tokenizer_; }

 private:
  std::vector<FastaRecord> records_;
  std::int64_t max_length_;
  Padding padding_;
  AminoAcidTokenizer tokenizer_;
};

}  // namespace minitrain
