#pragma once
// The parameter schema. Every section of a job — trainer, model, optimizer,
// lr_scheduler, each dataset, every plugin's init_args — is described by a
// table of ParamSpec, and one checker (param_check.hpp) checks a job against
// it: unknown keys, types, enum values, required keys and ranges, each with
// its file:line:col. The component then reads a PluginArgs of typed values.
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

namespace minitrain {

enum class ParamType : std::uint32_t {
  String,
  Path,
  Int,
  Float,
  Bool,
  Enum,          // a string from ParamSpec::choices
  StringIntMap,  // {key: int, ...}
  StringList,    // [a, b, ...]
  OutputDir,     // a path: a directory that no other callback of the job may write into
};

const char* to_string(ParamType type);

// The values an Int or Float may take: from min to max, either end open
// (the bound itself not allowed) or absent (infinite).
struct ParamRange {
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();
  bool min_open = false;
  bool max_open = false;
};
inline constexpr ParamRange at_least(double min) { return {min}; }
inline constexpr ParamRange above(double min) { return {min, std::numeric_limits<double>::infinity(), true}; }
inline constexpr ParamRange in_range(double min, double max, bool min_open = false, bool max_open = false) {
  return {min, max, min_open, max_open};
}

struct ParamSpec {
  const char* name;
  ParamType type;
  const char* default_value;  // YAML text ("false", "batch", "{}"); nullptr: required
  const char* doc;
  const char* choices = nullptr;  // Enum only: "a|b|c"
  ParamRange range = {};          // Int and Float only
};

// "must be at least 1, got 0" when `value` lies outside `range`; nullopt inside it.
std::optional<std::string> range_problem(const ParamRange& range, double value, const std::string& shown);
// "at least 1", "in (0, 1]", "" for no bounds: for help texts.
std::string describe(const ParamRange& range);

// The entry called `name` in a table of kinds (anything with a `name`); nullptr when none is.
template <class Kind>
const Kind* find_by_name(std::span<const Kind> kinds, const std::string& name) {
  for (const Kind& kind : kinds) {
    if (name == kind.name) return &kind;
  }
  return nullptr;
}

using StringIntMap = std::map<std::string, std::int64_t>;
using StringList = std::vector<std::string>;
using ParamValue = std::variant<std::monostate, std::string, std::int64_t, double, bool, StringIntMap, StringList>;

// Arguments that are each well-typed and in range but do not fit together
// (num_heads must divide embed_dim).
struct ArgProblem {
  std::string key;      // the init_args key to blame
  std::string message;  // what is wrong and how to fix it
};

class PluginArgs {
 public:
  PluginArgs() = default;
  void set(const std::string& name, ParamValue value);

  bool has(const std::string& name) const;  // present and not null
  std::string string(const std::string& name) const;
  std::int64_t integer(const std::string& name) const;
  double number(const std::string& name) const;
  bool boolean(const std::string& name) const;
  StringIntMap string_int_map(const std::string& name) const;
  StringList string_list(const std::string& name) const;
  std::optional<std::int64_t> optional_integer(const std::string& name) const;  // nullopt when null
  const std::map<std::string, ParamValue>& values() const { return values_; }

 private:
  const ParamValue& get(const std::string& name) const;
  std::map<std::string, ParamValue> values_;
};

}  // namespace minitrain
