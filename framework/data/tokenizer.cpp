#include "minitrain/data/tokenizer.hpp"

#include <algorithm>

namespace minitrain {

namespace {
constexpr const char* kSpecials[] = {"<pad>", "<cls>", "<eos>", "<unk>", "<mask>"};
constexpr std::string_view kResidues = "ACDEFGHIKLMNPQRSTVWYXBZUO";
}  // namespace

AminoAcidTokenizer::AminoAcidTokenizer() {
  for (const char* special : kSpecials) tokens_.emplace_back(special);
  std::fill(std::begin(id_of_letter_), std::end(id_of_letter_), kUnk);
  for (char residue : kResidues) {
    id_of_letter_[residue - 'A'] = static_cast<std::int64_t>(tokens_.size());
    tokens_.emplace_back(1, residue);
  }
}

bool AminoAcidTokenizer::is_residue_char(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

std::vector<std::int64_t> AminoAcidTokenizer::encode(std::string_view sequence, std::int64_t max_length) const {
  const std::size_t residues = std::min<std::size_t>(sequence.size(), static_cast<std::size_t>(std::max<std::int64_t>(max_length - 2, 0)));
  std::vector<std::int64_t> ids;
  ids.reserve(residues + 2);
  ids.push_back(kCls);
  for (std::size_t i = 0; i < residues; ++i) {
    const char c = sequence[i];
    const char upper = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
    ids.push_back(upper >= 'A' && upper <= 'Z' ? id_of_letter_[upper - 'A'] : kUnk);
  }
  ids.push_back(kEos);
  return ids;
}

std::string AminoAcidTokenizer::decode(const std::vector<std::int64_t>& ids) const {
  std::string text;
  for (std::int64_t id : ids) {
    if (id >= kFirstResidue && id < vocab_size()) text += tokens_[static_cast<std::size_t>(id)];
  }
  return text;
}

}  // namespace minitrain
