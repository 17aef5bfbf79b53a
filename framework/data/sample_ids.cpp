#include "minitrain/data/sample_ids.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <unordered_map>

namespace minitrain {

DuplicateIds find_duplicate_ids(const Dataset& dataset, std::size_t max_examples) {
  std::unordered_map<std::string, std::int64_t> first_of;
  first_of.reserve(static_cast<std::size_t>(dataset.size()));
  DuplicateIds found;
  for (std::int64_t index = 0; index < dataset.size(); ++index) {
    std::string id = dataset.sample_id(index);
    const auto [it, inserted] = first_of.emplace(id, index);
    if (inserted) continue;
    ++found.samples;
    auto example = std::find_if(found.examples.begin(), found.examples.end(), [&](const auto& e) { return e.first == id; });
    if (example != found.examples.end()) {
      example->second.push_back(index);
    } else if (found.examples.size() < max_examples) {
      found.examples.push_back({std::move(id), {it->second, index}});
    }
  }
  return found;
}

std::string describe(const DuplicateIds& duplicates) {
  std::vector<std::string> shown;
  for (const auto& [id, indices] : duplicates.examples) {
    const std::vector<std::int64_t> head(indices.begin(), indices.end() - 1);
    shown.push_back(fmt::format("'{}' (samples {} and {})", id, fmt::join(head, ", "), indices.back()));
  }
  return fmt::format("{} sample(s) repeat an earlier sample's ID, e.g. {}", duplicates.samples, fmt::join(shown, ", "));
}

}  // namespace minitrain
