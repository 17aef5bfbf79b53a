#include "minitrain/data/synthetic_dataset.hpp"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <cmath>
#include <numbers>

#include "minitrain/base/error.hpp"

namespace minitrain {

namespace {

// SplitMix64: a counter-based generator, so value k of a stream needs no state.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

// A standard normal draw for (seed, stream, counter), by Box-Muller.
float normal(std::uint64_t seed, std::uint64_t stream, std::uint64_t counter) {
  const std::uint64_t base = mix(seed ^ mix(stream)) ^ counter * 2;
  const double u1 = (static_cast<double>(mix(base) >> 11) + 1.0) * 0x1.0p-53;  // (0, 1]
  const double u2 = static_cast<double>(mix(base + 1) >> 11) * 0x1.0p-53;      // [0, 1)
  return static_cast<float>(std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2));
}

constexpr std::uint64_t kFeatureStream = 1;
constexpr std::uint64_t kTeacherStream = 2;
constexpr std::uint64_t kNoiseStream = 3;

}  // namespace

SyntheticDataset::SyntheticDataset(std::int64_t num_samples, std::int64_t num_features, std::int64_t num_classes,
                                   std::uint64_t seed)
    : num_samples_(num_samples), num_features_(num_features), num_classes_(num_classes), seed_(seed) {
  if (num_samples < 1) throw Error(fmt::format("a synthetic dataset needs at least 1 sample, got {}", num_samples));
  if (num_features < 1) throw Error(fmt::format("a synthetic dataset needs at least 1 feature, got {}", num_features));
  if (num_classes < 0 || num_classes == 1)
    throw Error(fmt::format("num_classes must be 0 (regression) or at least 2, got {}", num_classes));
  const std::int64_t outputs = std::max<std::int64_t>(num_classes, 1);
  std::vector<float> weights(static_cast<std::size_t>(num_features * outputs));
  for (std::size_t k = 0; k < weights.size(); ++k) weights[k] = normal(seed_, kTeacherStream, k);
  teacher_ = at::tensor(weights, at::kFloat).view({num_features, outputs});
}

Batch SyntheticDataset::get_batch(std::span<const std::int64_t> indices) const {
  Batch batch;
  batch.indices.assign(indices.begin(), indices.end());
  const auto rows = static_cast<std::int64_t>(indices.size());
  at::Tensor features = at::empty({rows, num_features_}, at::kFloat);
  float* out = features.data_ptr<float>();
  for (std::int64_t r = 0; r < rows; ++r) {
    const auto sample = static_cast<std::uint64_t>(indices[static_cast<std::size_t>(r)]);
    for (std::int64_t f = 0; f < num_features_; ++f)
      out[r * num_features_ + f] = normal(seed_, kFeatureStream, sample * static_cast<std::uint64_t>(num_features_) + f);
  }
  const at::Tensor teacher_out = features.matmul(teacher_);
  if (num_classes_ >= 2) {
    batch.fields["targets"] = teacher_out.argmax(1);
  } else {
    at::Tensor noise = at::empty({rows, 1}, at::kFloat);
    float* noise_out = noise.data_ptr<float>();
    for (std::int64_t r = 0; r < rows; ++r)
      noise_out[r] = normal(seed_, kNoiseStream, static_cast<std::uint64_t>(indices[static_cast<std::size_t>(r)]));
    batch.fields["targets"] = teacher_out + noise * 0.1;
  }
  batch.fields["features"] = std::move(features);
  return batch;
}

}  // namespace minitrain
