#include "minitrain/io/prediction_ids.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "minitrain/base/error.hpp"
#include "minitrain/io/prediction_files.hpp"

namespace minitrain {

c10::IValue ids_value(const std::vector<std::string>& ids) {
  c10::impl::GenericList list(c10::StringType::get());
  list.reserve(ids.size());
  for (const std::string& id : ids) list.push_back(id);
  return list;
}

std::optional<std::vector<std::string>> ids_in(const c10::impl::GenericDict& dict, std::int64_t rows,
                                               const std::filesystem::path& file) {
  const auto found = dict.find(kIdsKey);
  if (found == dict.end()) return std::nullopt;
  const c10::IValue& value = found->value();
  std::vector<std::string> ids;
  if (value.isList()) {
    for (const c10::IValue& item : value.toListRef()) {
      if (!item.isString()) break;
      ids.push_back(item.toStringRef());
    }
  }
  if (!value.isList() || ids.size() != value.toListRef().size() || static_cast<std::int64_t>(ids.size()) != rows)
    throw DataError(fmt::format("{}: error: '{}' is not a list of {} strings, one sample ID per row", file.string(), kIdsKey,
                                rows));
  return ids;
}

std::string ids_to_json(const std::vector<std::string>& ids) {
  // Invalid UTF-8 in an ID is written as U+FFFD rather than refused: the file is for reading.
  return nlohmann::json(ids).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::vector<std::string> ids_from_json(const std::string& text, std::int64_t rows, const std::filesystem::path& file) {
  std::vector<std::string> ids;
  try {
    ids = nlohmann::json::parse(text).get<std::vector<std::string>>();
  } catch (const nlohmann::json::exception& e) {
    throw DataError(fmt::format("{}: error: not a JSON list of sample IDs: {}", file.string(), e.what()));
  }
  if (static_cast<std::int64_t>(ids.size()) != rows)
    throw DataError(fmt::format("{}: error: {} sample IDs for {} rows", file.string(), ids.size(), rows));
  return ids;
}

}  // namespace minitrain
