#pragma once
// Hugging Face's safetensors format, as its reference writer lays it out:
//   8 bytes   N, the header's length, little-endian u64
//   N bytes   JSON: {"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...,
//             "__metadata__": {"key": "text"}}, padded with spaces to a multiple of 8
//   the data  every tensor's bytes, row-major, one after the other with no gap; the
//             widest dtypes first (then by name), so each tensor starts aligned to its
//             element size
// No pickle: nothing in a file runs code when it is read, and one tensor (or a
// slice of it) can be read without the others.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace minitrain {

struct SafetensorsTensor {
  std::string name;
  at::ScalarType dtype;
  std::vector<std::int64_t> shape;
};

struct SafetensorsLayout {
  std::string header;                // the length and the padded JSON: the file's first bytes
  std::vector<std::size_t> order;    // indices into the tensors given, in the order their data follows
  std::uint64_t data_bytes = 0;      // after the header
};

// "F32", "BF16", "I64", "BOOL", ...; Error for a dtype the format has no name for.
const char* safetensors_dtype(at::ScalarType dtype);

// The dtype a format name stands for; nullopt for a name it does not define.
std::optional<at::ScalarType> dtype_of_safetensors(const std::string& name);

// The header for these tensors and string metadata. Error for a duplicate or
// empty name, or one that is "__metadata__".
SafetensorsLayout plan_safetensors(const std::vector<SafetensorsTensor>& tensors,
                                   const std::map<std::string, std::string>& metadata);

}  // namespace minitrain
