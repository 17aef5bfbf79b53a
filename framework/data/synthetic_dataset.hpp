#pragma once
// A seeded synthetic dataset of any size, for benchmarks and smoke tests:
//   features [B, F] float32, standard normal
//   targets  [B] int64 class of a fixed random linear teacher (num_classes >= 2),
//            or [B, 1] float32 teacher output plus noise (num_classes == 0)
// Sample i is a pure function of (seed, i): nothing is held in memory, any
// batch can be made in any order, and a model can learn the teacher.
#include <ATen/core/Tensor.h>

#include <cstdint>

#include "minitrain/data/data.hpp"

namespace minitrain {

class SyntheticDataset : public Dataset {
 public:
  // Throws Error for num_samples < 1, num_features < 1 or num_classes == 1 or < 0.
  SyntheticDataset(std::int64_t num_samples, std::int64_t num_features, std::int64_t num_classes, std::uint64_t seed);

  std::int64_t size() const override { return num_samples_; }
  Batch get_batch(std::span<const std::int64_t> indices) const override;

 private:
  std::int64_t num_samples_;
  std::int64_t num_features_;
  std::int64_t num_classes_;
  std::uint64_t seed_;
  at::Tensor teacher_;  // [F, max(num_classes, 1)]
};

}  // namespace minitrain
