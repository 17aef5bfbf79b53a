#pragma once
// Where streamed tensor bytes go (a torch.save record, a safetensors file's
// data), so that one tensor streamer serves every file format.
#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace minitrain {

class ByteSink {
 public:
  virtual ~ByteSink() = default;
  virtual void append(const void* data, std::size_t size) = 0;
  void append_zeros(std::uint64_t size) {
    static constexpr char kZeros[1 << 16] = {};
    while (size > 0) {
      const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(size, sizeof kZeros));
      append(kZeros, n);
      size -= n;
    }
  }
};

}  // namespace minitrain
