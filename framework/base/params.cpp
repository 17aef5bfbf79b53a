// ParamType names, range checks and the typed accessors of PluginArgs.
#include "minitrain/base/params.hpp"

#include <fmt/format.h>

#include <limits>

#include "minitrain/base/error.hpp"

namespace minitrain {

const char* to_string(ParamType type) {
  switch (type) {
    case ParamType::String: return "string";
    case ParamType::Path:
    case ParamType::OutputDir: return "path";
    case ParamType::Int: return "int";
    case ParamType::Float: return "float";
    case ParamType::Bool: return "bool";
    case ParamType::Enum: return "enum";
    case ParamType::StringIntMap: return "map<string,int>";
    case ParamType::StringList: return "list<string>";
  }
  return "?";
}

namespace {
bool has_min(const ParamRange& range) { return range.min > -std::numeric_limits<double>::infinity(); }
bool has_max(const ParamRange& range) { return range.max < std::numeric_limits<double>::infinity(); }
}  // namespace

std::string describe(const ParamRange& range) {
  if (has_min(range) && has_max(range))
    return fmt::format("in {}{}, {}{}", range.min_open ? '(' : '[', range.min, range.max, range.max_open ? ')' : ']');
  if (has_min(range)) return fmt::format("{} {}", range.min_open ? "above" : "at least", range.min);
  if (has_max(range)) return fmt::format("{} {}", range.max_open ? "below" : "at most", range.max);
  return "";
}

std::optional<std::string> range_problem(const ParamRange& range, double value, const std::string& shown) {
  const bool low = range.min_open ? !(value > range.min) : !(value >= range.min);
  const bool high = range.max_open ? !(value < range.max) : !(value <= range.max);
  if (!low && !high) return std::nullopt;
  return fmt::format("must be {}, got {}", describe(range), shown);
}

void PluginArgs::set(const std::string& name, ParamValue value) { values_[name] = std::move(value); }

bool PluginArgs::has(const std::string& name) const {
  const auto it = values_.find(name);
  return it != values_.end() && !std::holds_alternative<std::monostate>(it->second);
}

const ParamValue& PluginArgs::get(const std::string& name) const {
  const auto it = values_.find(name);
  if (it == values_.end()) throw Error(fmt::format("argument '{}' was not declared in the parameter table", name));
  return it->second;
}

namespace {
template <class T>
const T& get_as(const ParamValue& value, const std::string& name, const char* wanted) {
  if (const T* v = std::get_if<T>(&value)) return *v;
  throw Error(fmt::format("argument '{}' is not a {} (or is null)", name, wanted));
}
}  // namespace

std::string PluginArgs::string(const std::string& name) const {
  return get_as<std::string>(get(name), name, "string");
}
std::int64_t PluginArgs::integer(const std::string& name) const {
  return get_as<std::int64_t>(get(name), name, "int");
}
double PluginArgs::number(const std::string& name) const {
  const ParamValue& value = get(name);
  if (const auto* i = std::get_if<std::int64_t>(&value)) return static_cast<double>(*i);
  return get_as<double>(value, name, "float");
}
bool PluginArgs::boolean(const std::string& name) const { return get_as<bool>(get(name), name, "bool"); }
StringIntMap PluginArgs::string_int_map(const std::string& name) const {
  return get_as<StringIntMap>(get(name), name, "map<string,int>");
}

std::optional<std::int64_t> PluginArgs::optional_integer(const std::string& name) const {
  if (!has(name)) return std::nullopt;
  return integer(name);
}

StringList PluginArgs::string_list(const std::string& name) const {
  return get_as<StringList>(get(name), name, "list<string>");
}
}  // namespace minitrain
