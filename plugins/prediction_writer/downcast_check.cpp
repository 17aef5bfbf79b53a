#include "downcast_check.hpp"

#include <ATen/ATen.h>
#include <fmt/format.h>

namespace minitrain {

at::Tensor DowncastCheck::cast(const at::Tensor& source, at::ScalarType dtype, const std::string& key) {
  at::Tensor cast = source.to(dtype);
  DowncastLoss& loss = losses_[key];
  loss.values += source.numel();
  if (dtype != source.scalar_type()) {  // a widening cast loses nothing, and its counts stay 0
    loss.overflowed += at::logical_and(at::isfinite(source), at::isinf(cast)).sum().item<std::int64_t>();
    loss.flushed += at::logical_and(source != 0, cast == 0).sum().item<std::int64_t>();
  }
  return cast;
}

bool DowncastCheck::lost_any() const {
  for (const auto& [key, loss] : losses_)
    if (loss.overflowed > 0 || loss.flushed > 0) return true;
  return false;
}

std::string DowncastCheck::describe() const {
  std::string out;
  for (const auto& [key, loss] : losses_) {
    if (loss.overflowed == 0 && loss.flushed == 0) continue;
    out += fmt::format("{}{}: {} of {} values overflowed to inf, {} flushed to zero", out.empty() ? "" : "; ", key,
                       loss.overflowed, loss.values, loss.flushed);
  }
  return out;
}

}  // namespace minitrain
