#pragma once
// A dataset of n samples that carry nothing but their index.
#include "minitrain/data/data.hpp"

namespace minitrain::testing {

class IndexDataset : public Dataset {
 public:
  explicit IndexDataset(std::int64_t n) : n_(n) {}
  std::int64_t size() const override { return n_; }
  Batch get_batch(std::span<const std::int64_t> indices) const override {
    Batch batch;
    batch.indices.assign(indices.begin(), indices.end());
    return batch;
  }

 private:
  std::int64_t n_;
};

}  // namespace minitrain::testing
