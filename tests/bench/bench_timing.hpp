#pragma once
// Wall-clock timing helpers shared by the benchmarks.
#include <algorithm>
#include <chrono>
#include <vector>

namespace minitrain::bench {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

inline double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

}  // namespace minitrain::bench
