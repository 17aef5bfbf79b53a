#pragma once
// CRC-32 as zip files and manifests use it (libdeflate's, 12 GB/s here), and
// the CRC of two byte runs end to end from their own CRCs, so that a file
// written in pieces, out of order, is never read back for its checksum.
#include <cstddef>
#include <cstdint>

namespace minitrain {

// The CRC-32 of the bytes so far (`crc`, 0 for none) followed by [data, data + size).
std::uint32_t crc32_update(std::uint32_t crc, const void* data, std::size_t size);

// The CRC-32 of A followed by B, from crc(A), crc(B) and B's length.
std::uint32_t crc32_concat(std::uint32_t crc_a, std::uint32_t crc_b, std::uint64_t size_b);

}  // namespace minitrain
