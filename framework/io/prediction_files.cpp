// Prediction file names: made, parsed and found.
#include "minitrain/io/prediction_files.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <regex>

namespace minitrain {

namespace fs = std::filesystem;

namespace {

template <class Integer>
std::optional<Integer> parse_number(const std::string& digits) {
  Integer value{};
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return value;
}

bool is_subdir(const fs::path& path) {
  static const std::regex subdir(R"(subdir_\d+)");
  return std::regex_match(path.filename().string(), subdir);
}

}  // namespace

const char* extension_of(PredictionFormat format) { return format == PredictionFormat::pt ? ".pt" : ".safetensors"; }

fs::path batch_file(const fs::path& dir, int rank, std::int64_t batch_idx, std::optional<std::int64_t> files_per_subdir,
                    PredictionFormat format) {
  const std::string name = fmt::format("predictions__rank_{}__batch_{}{}", rank, batch_idx, extension_of(format));
  if (!files_per_subdir) return dir / name;
  return dir / fmt::format("subdir_{}", batch_idx / *files_per_subdir) / name;
}

fs::path epoch_file(const fs::path& dir, int rank, PredictionFormat format) {
  return dir / fmt::format("predictions__rank_{}{}", rank, extension_of(format));
}

fs::path ids_sidecar_of(const fs::path& prediction_file) {
  fs::path sidecar = prediction_file;
  return sidecar.replace_extension(".ids.json");
}

std::optional<PredictionFileName> parse_prediction_file_name(const std::string& filename) {
  static const std::regex name(R"(predictions__rank_(\d+)(?:__batch_(\d+))?\.(pt|safetensors)(\.tmp\d+)?)");
  std::smatch m;
  if (!std::regex_match(filename, m, name)) return std::nullopt;
  PredictionFileName parsed;
  const auto rank = parse_number<int>(m[1].str());
  if (!rank) return std::nullopt;
  parsed.rank = *rank;
  if (m[2].matched) {
    parsed.batch_idx = parse_number<std::int64_t>(m[2].str());
    if (!parsed.batch_idx) return std::nullopt;
  }
  parsed.format = m[3].str() == "pt" ? PredictionFormat::pt : PredictionFormat::safetensors;
  parsed.temporary = m[4].matched;
  return parsed;
}

std::vector<std::pair<fs::path, PredictionFileName>> prediction_files_in(const fs::path& dir) {
  std::vector<std::pair<fs::path, PredictionFileName>> files;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_directory(ec)) {
      if (it.depth() > 0 || !is_subdir(it->path())) it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file(ec)) continue;
    if (auto parsed = parse_prediction_file_name(it->path().filename().string())) files.emplace_back(it->path(), *parsed);
  }
  std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return files;
}

}  // namespace minitrain
