#pragma once
// Samples that share an ID. Predictions are joined to inputs by ID, so a
// repeated one makes that join ambiguous: found once, when a dataset is made.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "minitrain/data/data.hpp"

namespace minitrain {

struct DuplicateIds {
  std::int64_t samples = 0;  // samples whose ID an earlier sample already has
  // A few of the repeated IDs, each with the indices of every sample carrying it.
  std::vector<std::pair<std::string, std::vector<std::int64_t>>> examples;
};

DuplicateIds find_duplicate_ids(const Dataset& dataset, std::size_t max_examples = 3);

// "2 samples repeat an earlier ID, e.g. 'P1' (samples 0 and 4), 'P2' (samples 1, 7 and 9)"
std::string describe(const DuplicateIds& duplicates);

}  // namespace minitrain
