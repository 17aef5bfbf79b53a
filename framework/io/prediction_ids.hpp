#pragma once
// The `ids` entry of a prediction file: the sample ID of every row, as a
// Python list of str, so `torch.load(f)["ids"][i]` names row i.
#include <ATen/core/ivalue.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace minitrain {

c10::IValue ids_value(const std::vector<std::string>& ids);

// The IDs a loaded prediction file's dict holds (nullopt: none, as in files of
// older versions); a DataError naming `file` when they are not a list of str
// with `rows` entries.
std::optional<std::vector<std::string>> ids_in(const c10::impl::GenericDict& dict, std::int64_t rows,
                                               const std::filesystem::path& file);

// The IDs sidecar of a .safetensors prediction file: a JSON list of str.
std::string ids_to_json(const std::vector<std::string>& ids);
// DataError naming `file` when the text is not a JSON list of `rows` strings.
std::vector<std::string> ids_from_json(const std::string& text, std::int64_t rows, const std::filesystem::path& file);

}  // namespace minitrain
