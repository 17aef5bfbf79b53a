#include "minitrain/collect.hpp"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <map>
#include <optional>
#include <regex>
#include <set>

#include "minitrain/collate.hpp"
#include "minitrain/error.hpp"
#include "minitrain/ivalue_tree.hpp"
#include "minitrain/serialization.hpp"

namespace minitrain {

namespace fs = std::filesystem;

namespace {

struct RankFiles {
  std::optional<fs::path> epoch;
  std::map<std::int64_t, fs::path> batches;  // by batch_idx
};

// Prediction files sit in the directory itself or in its subdir_N folders.
std::map<int, RankFiles> find_prediction_files(const fs::path& dir) {
  static const std::regex name(R"(predictions__rank_(\d+)(?:__batch_(\d+))?\.pt)");
  static const std::regex subdir(R"(subdir_\d+)");
  std::map<int, RankFiles> ranks;
  std::vector<fs::path> places{dir};
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.is_directory() && std::regex_match(entry.path().filename().string(), subdir)) places.push_back(entry.path());
  for (const fs::path& place : places) {
    for (const auto& entry : fs::directory_iterator(place)) {
      std::smatch m;
      const std::string file = entry.path().filename().string();
      if (!entry.is_regular_file() || !std::regex_match(file, m, name)) continue;
      RankFiles& rank = ranks[std::stoi(m[1].str())];
      if (m[2].matched)
        rank.batches[std::stoll(m[2].str())] = entry.path();
      else
        rank.epoch = entry.path();
    }
  }
  return ranks;
}

std::string first_few(const std::vector<std::int64_t>& values) {
  const std::size_t shown = std::min<std::size_t>(values.size(), 10);
  std::string out = fmt::format("{}", fmt::join(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(shown), ", "));
  if (values.size() > shown) out += fmt::format(" (and {} more)", values.size() - shown);
  return out;
}

}  // namespace

CollectSummary collect_predictions(const fs::path& input_dir, const fs::path& output) {
  if (!fs::is_directory(input_dir)) throw DataError(fmt::format("{}: error: not a directory of prediction files", input_dir.string()));
  const std::map<int, RankFiles> ranks = find_prediction_files(input_dir);
  std::vector<fs::path> files;
  for (const auto& [rank, found] : ranks) {
    if (found.epoch) {
      files.push_back(*found.epoch);
    } else {
      for (const auto& [batch, path] : found.batches) files.push_back(path);
    }
  }
  if (files.empty())
    throw DataError(fmt::format("{}: error: no prediction files (predictions__rank_R.pt or predictions__rank_R__batch_B.pt)",
                                input_dir.string()));

  std::vector<c10::IValue> pieces;
  std::vector<at::Tensor> indices;
  std::map<std::int64_t, fs::path> first_seen;
  std::vector<std::int64_t> duplicates;
  std::string duplicate_files;
  for (const fs::path& file : files) {
    const c10::IValue loaded = load_pickled(file);
    if (!loaded.isGenericDict() || !loaded.toGenericDict().contains("batch_indices"))
      throw DataError(fmt::format("{}: error: not a prediction file (a dict with batch_indices)", file.string()));
    c10::impl::GenericDict dict = loaded.toGenericDict().copy();
    const at::Tensor file_indices = dict.at("batch_indices").toTensor().to(at::kLong).reshape({-1});
    dict.erase("batch_indices");
    dict.erase("batch_idx");
    for (std::int64_t i = 0; i < file_indices.numel(); ++i) {
      const std::int64_t index = file_indices[i].item<std::int64_t>();
      const auto [it, inserted] = first_seen.emplace(index, file);
      if (!inserted) {
        if (duplicates.empty())
          duplicate_files = fmt::format(" (e.g. {} in {} and {})", index, it->second.filename().string(), file.filename().string());
        duplicates.push_back(index);
      }
    }
    indices.push_back(file_indices);
    pieces.emplace_back(dict);
  }
  const std::int64_t samples = first_seen.empty() ? 0 : first_seen.rbegin()->first + 1;
  std::vector<std::int64_t> missing;
  for (std::int64_t i = 0; i < samples; ++i)
    if (!first_seen.count(i)) missing.push_back(i);
  if (!missing.empty() || !duplicates.empty() || (!first_seen.empty() && first_seen.begin()->first < 0)) {
    std::string problem;
    if (!missing.empty())
      problem += fmt::format("\n  missing dataset indices: {}; a rank's files may be missing or incomplete", first_few(missing));
    if (!duplicates.empty())
      problem += fmt::format("\n  dataset indices found more than once: {}{}", first_few(duplicates), duplicate_files);
    throw DataError(fmt::format("{}: error: the {} files from {} rank(s) do not cover every sample exactly once{}",
                                input_dir.string(), files.size(), ranks.size(), problem));
  }

  const at::Tensor all_indices = at::cat(indices);
  const at::Tensor order = all_indices.argsort();
  const c10::IValue merged = batch_collator(pieces);
  c10::IValue ordered = map_tensors(merged, [&](const at::Tensor& t) {
    if (t.dim() == 0 || t.size(0) != order.numel())
      throw DataError(fmt::format("{}: error: a tensor of shape [{}] has no row per sample; collect puts rows in order "
                                  "along dim 0",
                                  input_dir.string(), fmt::join(t.sizes(), ", ")));
    return t.index_select(0, order);
  });
  c10::impl::GenericDict out = ordered.toGenericDict();
  out.insert("batch_indices", all_indices.index_select(0, order));
  save_pickled(out, output);
  return {samples, static_cast<std::int64_t>(files.size()), static_cast<int>(ranks.size())};
}

}  // namespace minitrain
