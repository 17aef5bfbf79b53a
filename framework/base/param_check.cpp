// The parameter checker: YAML values against ParamSpec tables, located.
#include "minitrain/base/param_check.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <optional>

namespace minitrain {

std::string describe(const YAML::Node& node) {
  if (node.IsNull()) return "null";
  if (node.IsScalar()) return fmt::format("'{}'", node.Scalar());
  if (node.IsSequence()) return "a list";
  if (node.IsMap()) return "a mapping";
  return "nothing";
}

std::string child_path(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

namespace {

// "a|b|c" -> {a, b, c}
std::vector<std::string> split_choices(const char* choices) {
  std::vector<std::string> out;
  std::string current;
  for (const char* c = choices; c && *c; ++c) {
    if (*c == '|') {
      out.push_back(current);
      current.clear();
    } else {
      current += *c;
    }
  }
  out.push_back(current);
  return out;
}

// `value` when `number` lies in the spec's range; otherwise nullopt and the problem.
std::optional<ParamValue> within_range(ParamValue value, double number, const std::string& shown, const ParamSpec& spec,
                                       std::string& problem) {
  if (auto out_of_range = range_problem(spec.range, number, shown)) {
    problem = *out_of_range;
    return std::nullopt;
  }
  return value;
}

// Converts one value to its declared type, or says what was expected.
std::optional<ParamValue> convert(const YAML::Node& node, const ParamSpec& spec, std::string& problem) {
  const bool optional = spec.default_value && std::string(spec.default_value) == "null";
  if (node.IsNull()) {
    if (optional) return ParamValue{};
    problem = fmt::format("expected {}, got null", spec.type == ParamType::Enum ? "a value" : to_string(spec.type));
    return std::nullopt;
  }
  switch (spec.type) {
    case ParamType::Int: {
      std::int64_t v;
      if (node.IsScalar() && YAML::convert<std::int64_t>::decode(node, v))
        return within_range(ParamValue{v}, static_cast<double>(v), std::to_string(v), spec, problem);
      problem = fmt::format("expected an integer, got {}", describe(node));
      return std::nullopt;
    }
    case ParamType::Float: {
      double v;
      if (node.IsScalar() && YAML::convert<double>::decode(node, v))
        return within_range(ParamValue{v}, v, node.Scalar(), spec, problem);
      problem = fmt::format("expected a number, got {}", describe(node));
      return std::nullopt;
    }
    case ParamType::Bool: {
      bool v;
      if (node.IsScalar() && YAML::convert<bool>::decode(node, v)) return ParamValue{v};
      problem = fmt::format("expected true or false, got {}", describe(node));
      return std::nullopt;
    }
    case ParamType::String:
    case ParamType::Path:
    case ParamType::OutputDir: {
      if (node.IsScalar() && !node.Scalar().empty()) return ParamValue{node.Scalar()};
      problem = fmt::format("expected a {}, got {}", to_string(spec.type), describe(node));
      return std::nullopt;
    }
    case ParamType::Enum: {
      const auto choices = split_choices(spec.choices);
      if (node.IsScalar() && std::find(choices.begin(), choices.end(), node.Scalar()) != choices.end())
        return ParamValue{node.Scalar()};
      problem = fmt::format("expected one of {}, got {}", fmt::join(choices, ", "), describe(node));
      if (node.IsScalar()) problem += did_you_mean(node.Scalar(), choices);
      return std::nullopt;
    }
    case ParamType::StringIntMap: {
      if (!node.IsMap()) {
        problem = fmt::format("expected a mapping of name: integer, got {}", describe(node));
        return std::nullopt;
      }
      StringIntMap out;
      for (const auto& item : node) {
        std::int64_t v;
        if (!item.second.IsScalar() || !YAML::convert<std::int64_t>::decode(item.second, v)) {
          problem = fmt::format("expected an integer for key '{}', got {}", item.first.Scalar(), describe(item.second));
          return std::nullopt;
        }
        out[item.first.Scalar()] = v;
      }
      return ParamValue{out};
    }
    case ParamType::StringList: {
      if (!node.IsSequence()) {
        problem = fmt::format("expected a list of names, got {}", describe(node));
        return std::nullopt;
      }
      StringList out;
      for (const auto& item : node) {
        if (!item.IsScalar()) {
          problem = fmt::format("expected a list of names, got {} in it", describe(item));
          return std::nullopt;
        }
        out.push_back(item.Scalar());
      }
      return ParamValue{out};
    }
  }
  problem = "unsupported parameter type";
  return std::nullopt;
}

}  // namespace

namespace {

// Whether `path` is `prefix` or lies under it: a.b under a, a[0].b under a[0] and a.
bool is_under(const std::string& path, const std::string& prefix) {
  return path == prefix || path.rfind(prefix + ".", 0) == 0 || path.rfind(prefix + "[", 0) == 0;
}

}  // namespace

void JobSource::add_file_value(const std::string& yaml_path, const std::filesystem::path& file) {
  if (std::find(files_.begin(), files_.end(), file) == files_.end()) files_.push_back(file);
  // A value replaced whole drops what earlier files said about the values under it.
  std::erase_if(file_values_, [&](const auto& entry) { return is_under(entry.first, yaml_path); });
  file_values_[yaml_path] = file;
}

void JobSource::add_override(const std::string& yaml_path, const std::string& argument) {
  overrides_[yaml_path] = argument;
}

SourceLocation JobSource::locate(const YAML::Node& node, const std::string& yaml_path) const {
  for (const auto& [path, argument] : overrides_) {
    if (is_under(yaml_path, path)) return {fmt::format("command line ({})", argument)};
  }
  // The deepest value a later file replaced that holds this one; else the first file.
  std::filesystem::path file = files_.empty() ? std::filesystem::path() : files_.front();
  std::size_t deepest = 0;
  for (const auto& [path, from] : file_values_) {
    if (is_under(yaml_path, path) && path.size() + 1 > deepest) {
      deepest = path.size() + 1;
      file = from;
    }
  }
  const YAML::Mark mark = node.IsDefined() ? node.Mark() : YAML::Mark::null_mark();
  if (mark.is_null()) return {file.string()};
  return {file.string(), mark.line + 1, mark.column + 1};
}

PluginArgs validate_params(YAML::Node args, std::span<const ParamSpec> specs, const std::string& yaml_path,
                           const JobSource& source, Diagnostics& diagnostics,
                           std::span<const std::string> ignored_keys) {
  PluginArgs out;
  if (args.IsDefined() && !args.IsNull() && !args.IsMap()) {
    diagnostics.error(source.locate(args, yaml_path), yaml_path, "expected a mapping, got " + describe(args));
    return out;
  }
  std::vector<std::string> known;
  for (const auto& spec : specs) known.emplace_back(spec.name);
  known.insert(known.end(), ignored_keys.begin(), ignored_keys.end());
  if (args.IsMap()) {
    for (const auto& kv : args) {
      const std::string key = kv.first.Scalar();
      if (std::find(known.begin(), known.end(), key) != known.end()) continue;
      const std::string path = child_path(yaml_path, key);
      const std::string hint = did_you_mean(key, known);
      diagnostics.error(source.locate(kv.first, path), path,
                        "unknown key" + (hint.empty() ? fmt::format("; expected one of {}", fmt::join(known, ", ")) : hint));
    }
  }
  for (const auto& spec : specs) {
    const std::string path = child_path(yaml_path, spec.name);
    YAML::Node node = args.IsMap() ? args[spec.name] : YAML::Node();
    if (!node.IsDefined()) {
      if (!spec.default_value) {
        diagnostics.error(source.locate(args, yaml_path), path,
                          spec.type == ParamType::Enum
                              ? fmt::format("missing required key; expected one of {}", fmt::join(split_choices(spec.choices), ", "))
                              : fmt::format("missing required key ({}: {})", to_string(spec.type), spec.doc));
        continue;
      }
      node = YAML::Load(spec.default_value);
      args[spec.name] = node;
    }
    std::string problem;
    if (auto value = convert(node, spec, problem)) {
      out.set(spec.name, std::move(*value));
    } else {
      diagnostics.error(source.locate(node, path), path, problem);
    }
  }
  return out;
}

void report_arg_problems(const std::vector<ArgProblem>& problems, const YAML::Node& args, const std::string& yaml_path,
                         const JobSource& source, Diagnostics& diagnostics) {
  for (const ArgProblem& problem : problems) {
    const std::string path = child_path(yaml_path, problem.key);
    diagnostics.error(source.locate(args.IsMap() ? args[problem.key] : args, path), path, problem.message);
  }
}

}  // namespace minitrain
