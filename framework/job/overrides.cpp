// Command-line overrides: key paths with list indices, values as YAML.
#include "minitrain/job/overrides.hpp"

#include <fmt/format.h>

#include <charconv>
#include <optional>
#include <regex>
#include <vector>

namespace minitrain {

namespace {

// Splits "trainer.callbacks[0].init_args" into ("trainer"), ("callbacks", 0), ...
struct PathStep {
  std::string key;
  std::optional<std::size_t> index;
};

std::optional<std::vector<PathStep>> parse_override_path(const std::string& path) {
  static const std::regex step(R"(^([A-Za-z_][A-Za-z0-9_]*)(?:\[(\d+)\])?$)");
  std::vector<PathStep> steps;
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t dot = path.find('.', start);
    const std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    std::smatch m;
    if (!std::regex_match(part, m, step)) return std::nullopt;
    PathStep s{m[1].str(), std::nullopt};
    if (m[2].matched) {
      std::size_t index = 0;
      const std::string digits = m[2].str();
      if (std::from_chars(digits.data(), digits.data() + digits.size(), index).ec != std::errc()) return std::nullopt;
      s.index = index;  // an index too large for size_t is no key path, not an exception
    }
    steps.push_back(s);
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return steps;
}

}  // namespace

void apply_override(YAML::Node root, const std::string& argument, JobSource& source, Diagnostics& diagnostics) {
  const SourceLocation where{fmt::format("command line ({})", argument)};
  std::string text = argument.rfind("--", 0) == 0 ? argument.substr(2) : argument;
  const std::size_t eq = text.find('=');
  if (eq == std::string::npos) {
    diagnostics.error(where, "", "expected --key.path=value, e.g. --trainer.max_epochs=3");
    return;
  }
  const std::string path = text.substr(0, eq);
  const auto steps = parse_override_path(path);
  if (!steps) {
    diagnostics.error(where, "", fmt::format("'{}' is not a key path; write it like trainer.callbacks[0].init_args.output_dir", path));
    return;
  }
  YAML::Node value;
  try {
    value = YAML::Load(text.substr(eq + 1));
  } catch (const YAML::Exception& e) {
    diagnostics.error(where, path, fmt::format("value is not valid YAML: {}", e.msg));
    return;
  }
  YAML::Node current;
  current.reset(root);
  for (std::size_t i = 0; i < steps->size(); ++i) {
    const PathStep& s = (*steps)[i];
    const bool last = i + 1 == steps->size();
    if (current.IsDefined() && !current.IsNull() && !current.IsMap()) {
      diagnostics.error(where, path, fmt::format("cannot set '{}': its parent is not a mapping", s.key));
      return;
    }
    if (last && !s.index) {
      current[s.key] = value;
      break;
    }
    YAML::Node next = current[s.key];
    if (s.index) {
      if (!next.IsSequence() || *s.index >= next.size()) {
        diagnostics.error(where, path, fmt::format("'{}' has no item [{}]", s.key, *s.index));
        return;
      }
      if (last) {
        next[*s.index] = value;
        break;
      }
      YAML::Node item = next[*s.index];
      current.reset(item);
    } else {
      current.reset(next);
    }
  }
  source.add_override(path, argument);
}

}  // namespace minitrain
