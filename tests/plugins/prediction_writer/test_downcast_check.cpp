// The downcast check: what a dtype cast turned into inf or zero, per key.
#include <ATen/ATen.h>

#include "downcast_check.hpp"

#include "doctest_torch.hpp"

using namespace minitrain;

TEST_CASE("a cast to float16 counts overflows and flushes per key; widening and same-range casts count none") {
  DowncastCheck check;
  const at::Tensor values = at::tensor({1e5f, -7e4f, 1.f, 1e-9f, 0.f, std::numeric_limits<float>::infinity()});
  const at::Tensor half = check.cast(values, at::kHalf, "logits");
  CHECK((half.scalar_type() == at::kHalf));
  CHECK(check.cast(at::tensor({3e5f}), at::kHalf, "logits").isinf().item<bool>());
  check.cast(at::tensor({1e30f, 1e-30f}), at::kBFloat16, "embeddings");  // float32's range: nothing lost
  check.cast(values.to(at::kHalf), at::kFloat, "widened");
  const DowncastLoss& logits = check.losses().at("logits");
  CHECK(logits.overflowed == 3);  // 1e5, -7e4 and 3e5; the inf that was already there does not count
  CHECK(logits.flushed == 1);     // 1e-9; the 0 that was already there does not count
  CHECK(logits.values == 7);
  CHECK(check.losses().at("embeddings").overflowed == 0);
  CHECK(check.losses().at("embeddings").flushed == 0);
  CHECK(check.lost_any());
  CHECK(check.describe() == "logits: 3 of 7 values overflowed to inf, 1 flushed to zero");
  CHECK_FALSE(DowncastCheck().lost_any());
}
