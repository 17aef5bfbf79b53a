#include "minitrain/io/crc32.hpp"

#include <libdeflate.h>
#include <zlib.h>

namespace minitrain {

std::uint32_t crc32_update(std::uint32_t crc, const void* data, std::size_t size) {
  return static_cast<std::uint32_t>(libdeflate_crc32(crc, data, size));
}

std::uint32_t crc32_concat(std::uint32_t crc_a, std::uint32_t crc_b, std::uint64_t size_b) {
  return static_cast<std::uint32_t>(::crc32_combine(crc_a, crc_b, static_cast<z_off_t>(size_b)));
}

}  // namespace minitrain
