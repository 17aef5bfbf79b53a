#pragma once
// Amino-acid tokenizer in the ESM style: special tokens first, then the 20
// standard residues, then the ambiguous and rare ones (X B Z U O).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace minitrain {

class AminoAcidTokenizer {
 public:
  static constexpr std::int64_t kPad = 0;
  static constexpr std::int64_t kCls = 1;
  static constexpr std::int64_t kEos = 2;
  static constexpr std::int64_t kUnk = 3;
  static constexpr std::int64_t kMask = 4;
  static constexpr std::int64_t kFirstResidue = 5;

  AminoAcidTokenizer();
  std::int64_t vocab_size() const { return static_cast<std::int64_t>(tokens_.size()); }
  // <cls> residues... <eos>, truncated so the result has at most max_length ids.
  std::vector<std::int64_t> encode(std::string_view sequence, std::int64_t max_length) const;
  std::string decode(const std::vector<std::int64_t>& ids) const;
  // Whether a FASTA sequence character is a residue letter this tokenizer accepts.
  static bool is_residue_char(char c);

 private:
  std::vector<std::string> tokens_;
  std::int64_t id_of_letter_[26];
};

}  // namespace minitrain
