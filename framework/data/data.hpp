#pragma once
// Datasets, batches and the DataLoader. Every batch knows the dataset index and
// the ID of each of its rows, so callbacks can always map outputs back to samples.
#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace minitrain {

struct Batch {
  std::vector<std::int64_t> indices;         // dataset index of every row
  std::vector<std::string> ids;              // the sample ID of every row (Dataset::sample_id)
  std::map<std::string, at::Tensor> fields;  // e.g. input_ids [B, L], attention_mask [B, L]

  std::int64_t size() const { return static_cast<std::int64_t>(indices.size()); }
  // The field, or an Error listing the fields there are.
  const at::Tensor& field(const std::string& name) const;
  Batch to(c10::Device device) const;
};

class Dataset {
 public:
  virtual ~Dataset();
  virtual std::int64_t size() const = 0;
  // One batch of the given samples, in that order.
  virtual Batch get_batch(std::span<const std::int64_t> indices) const = 0;
  // The input's own name for a sample (a FASTA header's first word, an ID
  // column's cell), by which users join predictions to inputs; by default the
  // index in decimal.
  virtual std::string sample_id(std::int64_t index) const;
  // The names of its batches' fields (those of a batch of the first sample).
  std::vector<std::string> fields() const;
  // The tokens the sample takes in a batch, padding included, for batches
  // packed to a token budget; nullopt for data without a length.
  virtual std::optional<std::int64_t> tokens(std::int64_t index) const;
};

// Which share of the samples this process takes when several ranks run one job.
struct Shard {
  int rank = 0;
  int world_size = 1;
  // true (training): every rank gets as many samples, the first ones repeated
  // to fill up, as PyTorch's DistributedSampler does, so ranks take the same
  // number of steps. false (validation, predict): every sample goes to exactly
  // one rank, none repeated (Lightning's UnrepeatedDistributedSampler).
  bool even = false;
};

struct DataLoaderOptions {
  std::int64_t batch_size = 8;
  bool shuffle = false;
  bool drop_last = false;
  std::uint64_t seed = 0;  // shuffle order is a function of (seed, epoch) alone
  Shard shard = {};        // rank r takes samples r, r + world_size, ... of the epoch's order
  // > 0: instead of batch_size samples, each rank's share is sorted by length
  // and packed into batches of at most this many tokens, padding included
  // (ESM's toks_per_batch); a longer sample makes a batch of its own.
  std::int64_t max_tokens = 0;
  // Batches built ahead on a loader thread while the model runs (BatchPrefetcher); 0: each when needed.
  std::int64_t prefetch_batches = 2;
};

class DataLoader {
 public:
  DataLoader(std::shared_ptr<const Dataset> dataset, DataLoaderOptions options);

  // Fixes the sample order for one epoch (reshuffled per epoch when shuffle is on).
  void set_epoch(std::int64_t epoch);
  std::int64_t num_batches() const;
  Batch batch(std::int64_t batch_idx) const;
  std::span<const std::int64_t> batch_indices(std::int64_t batch_idx) const;
  const Dataset& dataset() const { return *dataset_; }
  const DataLoaderOptions& options() const { return options_; }

 private:
  void shard_order();  // keeps this rank's share of order_
  void cut_batches();  // fills batch_starts_ from order_

  std::shared_ptr<const Dataset> dataset_;
  DataLoaderOptions options_;
  std::vector<std::int64_t> order_;
  std::vector<std::size_t> batch_starts_;  // where each batch begins in order_, and order_'s end last
};

}  // namespace minitrain
