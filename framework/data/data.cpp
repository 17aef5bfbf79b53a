#include "minitrain/data/data.hpp"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <algorithm>
#include <numeric>
#include <random>

#include "minitrain/base/error.hpp"

namespace minitrain {

// Out of line, so the vtable lives in the library that host and plugins share.
Dataset::~Dataset() = default;

std::vector<std::string> Dataset::fields() const {
  std::vector<std::string> names;
  if (size() == 0) return names;
  const std::int64_t first = 0;
  for (const auto& [name, tensor] : get_batch(std::span(&first, 1)).fields) names.push_back(name);
  return names;
}

std::string Dataset::sample_id(std::int64_t index) const { return std::to_string(index); }

std::optional<std::int64_t> Dataset::tokens(std::int64_t) const { return std::nullopt; }

const at::Tensor& Batch::field(const std::string& name) const {
  const auto it = fields.find(name);
  if (it != fields.end()) return it->second;
  std::string names;
  for (const auto& [key, value] : fields) names += (names.empty() ? "" : ", ") + key;
  throw Error(fmt::format("the batch has no field '{}'; it has: {}", name, names.empty() ? "none" : names));
}

Batch Batch::to(c10::Device device) const {
  Batch moved;
  moved.indices = indices;
  moved.ids = ids;
  for (const auto& [name, tensor] : fields) moved.fields[name] = tensor.to(device);
  return moved;
}

DataLoader::DataLoader(std::shared_ptr<const Dataset> dataset, DataLoaderOptions options)
    : dataset_(std::move(dataset)), options_(options) {
  if (options_.batch_size < 1) throw Error(fmt::format("batch_size must be at least 1, got {}", options_.batch_size));
  set_epoch(0);
}

void DataLoader::set_epoch(std::int64_t epoch) {
  order_.resize(static_cast<std::size_t>(dataset_->size()));
  std::iota(order_.begin(), order_.end(), 0);
  if (!options_.shuffle) {
    shard_order();
    return cut_batches();
  }
  // Fisher-Yates over mt19937_64, whose output the standard fixes, so an order
  // is the same on every platform for the same (seed, epoch).
  std::mt19937_64 rng(options_.seed * 1000003ULL + static_cast<std::uint64_t>(epoch));
  for (std::size_t i = order_.size(); i > 1; --i) {
    const std::size_t j = static_cast<std::size_t>(rng() % i);
    std::swap(order_[i - 1], order_[j]);
  }
  shard_order();
  cut_batches();
}

void DataLoader::cut_batches() {
  batch_starts_.clear();
  if (options_.max_tokens <= 0) {
    const auto size = static_cast<std::size_t>(options_.batch_size);
    const std::size_t whole = options_.drop_last ? order_.size() / size * size : order_.size();
    for (std::size_t start = 0; start < whole; start += size) batch_starts_.push_back(start);
    batch_starts_.push_back(whole);
    return;
  }
  // Longest first, ties by index, so equal lengths share batches and the cut is the same on every run.
  // The first batch is then the widest: a batch too big for memory fails at once, and an epoch
  // file can be laid out from the first batch and written as the others arrive.
  std::vector<std::pair<std::int64_t, std::int64_t>> by_length;  // (tokens, index) of this rank's share
  by_length.reserve(order_.size());
  for (const std::int64_t index : order_) {
    const std::optional<std::int64_t> tokens = dataset_->tokens(index);
    if (!tokens) throw Error("max_tokens packs batches by sequence length, and this data has none; use batch_size");
    by_length.emplace_back(*tokens, index);
  }
  std::sort(by_length.begin(), by_length.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  std::int64_t longest = 0;  // of the batch being packed: its first sample
  for (std::size_t at = 0; at < by_length.size(); ++at) {
    const auto [tokens, index] = by_length[at];
    order_[at] = index;
    const auto count = static_cast<std::int64_t>(batch_starts_.empty() ? 0 : at - batch_starts_.back());
    if (batch_starts_.empty() || longest * (count + 1) > options_.max_tokens) {
      batch_starts_.push_back(at);
      longest = tokens;
    }
  }
  batch_starts_.push_back(order_.size());
}

void DataLoader::shard_order() {
  const Shard& shard = options_.shard;
  if (shard.world_size <= 1) return;
  std::vector<std::int64_t> full = std::move(order_);
  if (shard.even && !full.empty()) {
    const std::size_t world = static_cast<std::size_t>(shard.world_size);
    const std::size_t padded = (full.size() + world - 1) / world * world;
    for (std::size_t i = full.size(); i < padded; ++i) full.push_back(full[i % full.size()]);
  }
  order_.clear();
  for (std::size_t i = static_cast<std::size_t>(shard.rank); i < full.size(); i += static_cast<std::size_t>(shard.world_size))
    order_.push_back(full[i]);
}

std::int64_t DataLoader::num_batches() const { return static_cast<std::int64_t>(batch_starts_.size()) - 1; }

std::span<const std::int64_t> DataLoader::batch_indices(std::int64_t batch_idx) const {
  if (batch_idx < 0 || batch_idx >= num_batches())
    throw Error(fmt::format("batch {} is out of range (the loader has {})", batch_idx, num_batches()));
  const std::size_t begin = batch_starts_[static_cast<std::size_t>(batch_idx)];
  const std::size_t end = batch_starts_[static_cast<std::size_t>(batch_idx) + 1];
  return std::span<const std::int64_t>(order_).subspan(begin, end - begin);
}

Batch DataLoader::batch(std::int64_t batch_idx) const {
  const auto indices = batch_indices(batch_idx);
  Batch batch = dataset_->get_batch(indices);
  batch.ids.clear();
  batch.ids.reserve(indices.size());
  for (const std::int64_t index : indices) batch.ids.push_back(dataset_->sample_id(index));
  return batch;
}

}  // namespace minitrain
