#pragma once
// Parameter tables and the validated arguments built from them. Plugins and
// built-in models describe their init_args with a ParamSpec table; the host
// checks a job file against it (unknown keys, types, enum values, required
// keys) and hands the component a PluginArgs of typed values.
#include <cstdint>
#include <map>
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
};

const char* to_string(ParamType type);

struct ParamSpec {
  const char* name;
  ParamType type;
  const char* default_value;  // YAML text ("false", "batch", "{}"); nullptr: required
  const char* doc;
  const char* choices;  // Enum only: "a|b|c"
};

using StringIntMap = std::map<std::string, std::int64_t>;
using StringList = std::vector<std::string>;
using ParamValue = std::variant<std::monostate, std::string, std::int64_t, double, bool, StringIntMap, StringList>;

// Arguments that are each well-typed but do not fit (a range, or together).
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
  const std::map<std::string, ParamValue>& values() const { return values_; }

 private:
  const ParamValue& get(const std::string& name) const;
  std::map<std::string, ParamValue> values_;
};

}  // namespace minitrain
