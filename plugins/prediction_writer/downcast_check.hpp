#pragma once
// A lossy dtype cast made visible: casting to float16 (largest finite value
// 65504) turns larger values into inf and tiny ones into 0. Each cast counts,
// per output key, the finite values that became infinite and the non-zero
// values that became zero, so the run can say what it altered, or refuse to.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <map>
#include <string>

namespace minitrain {

struct DowncastLoss {
  std::int64_t overflowed = 0;  // finite, now inf
  std::int64_t flushed = 0;     // non-zero, now zero
  std::int64_t values = 0;      // every value cast under this key
};

class DowncastCheck {
 public:
  // `source` cast to `dtype`, its losses counted under `key`.
  at::Tensor cast(const at::Tensor& source, at::ScalarType dtype, const std::string& key);
  bool lost_any() const;
  // "token_logits: 29 of 32 values overflowed to inf, 0 flushed to zero; ..." over the keys that lost values.
  std::string describe() const;
  const std::map<std::string, DowncastLoss>& losses() const { return losses_; }

 private:
  std::map<std::string, DowncastLoss> losses_;
};

}  // namespace minitrain
