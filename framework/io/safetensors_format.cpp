#include "minitrain/io/safetensors_format.hpp"

#include <c10/core/ScalarType.h>
#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <numeric>
#include <set>

#include "minitrain/base/error.hpp"

namespace minitrain {

using json = nlohmann::ordered_json;  // the data's order, for a reader's eyes

const char* safetensors_dtype(at::ScalarType dtype) {
  switch (dtype) {
    case at::kDouble: return "F64";
    case at::kFloat: return "F32";
    case at::kHalf: return "F16";
    case at::kBFloat16: return "BF16";
    case at::kLong: return "I64";
    case at::kInt: return "I32";
    case at::kShort: return "I16";
    case at::kChar: return "I8";
    case at::kByte: return "U8";
    case at::kBool: return "BOOL";
    default:
      throw Error(fmt::format("safetensors has no dtype for {}; cast it (prediction_writer dtype:) or write .pt files",
                              c10::toString(dtype)));
  }
}

std::optional<at::ScalarType> dtype_of_safetensors(const std::string& name) {
  for (const at::ScalarType dtype : {at::kDouble, at::kFloat, at::kHalf, at::kBFloat16, at::kLong, at::kInt, at::kShort,
                                     at::kChar, at::kByte, at::kBool})
    if (name == safetensors_dtype(dtype)) return dtype;
  return std::nullopt;
}

SafetensorsLayout plan_safetensors(const std::vector<SafetensorsTensor>& tensors,
                                   const std::map<std::string, std::string>& metadata) {
  std::set<std::string> names;
  for (const SafetensorsTensor& tensor : tensors) {
    if (tensor.name.empty() || tensor.name == "__metadata__" || !names.insert(tensor.name).second)
      throw Error(fmt::format("safetensors: the tensor name '{}' is {}", tensor.name,
                              tensor.name.empty() ? "empty" : tensor.name == "__metadata__" ? "reserved" : "used twice"));
    safetensors_dtype(tensor.dtype);  // refuse early
  }
  SafetensorsLayout layout;
  layout.order.resize(tensors.size());
  std::iota(layout.order.begin(), layout.order.end(), std::size_t{0});
  std::sort(layout.order.begin(), layout.order.end(), [&](std::size_t a, std::size_t b) {
    const auto wa = c10::elementSize(tensors[a].dtype), wb = c10::elementSize(tensors[b].dtype);
    return wa != wb ? wa > wb : tensors[a].name < tensors[b].name;
  });
  json header = json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  for (const std::size_t i : layout.order) {
    const SafetensorsTensor& tensor = tensors[i];
    const auto elements = std::accumulate(tensor.shape.begin(), tensor.shape.end(), std::uint64_t{1},
                                          [](std::uint64_t n, std::int64_t d) { return n * static_cast<std::uint64_t>(d); });
    const std::uint64_t end = layout.data_bytes + elements * c10::elementSize(tensor.dtype);
    header[tensor.name] = {{"dtype", safetensors_dtype(tensor.dtype)}, {"shape", tensor.shape},
                           {"data_offsets", {layout.data_bytes, end}}};
    layout.data_bytes = end;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  layout.header.resize(8);
  for (int b = 0; b < 8; ++b) layout.header[static_cast<std::size_t>(b)] = static_cast<char>((text.size() >> (8 * b)) & 0xff);
  layout.header += text;
  return layout;
}

}  // namespace minitrain
