#pragma once
// Collected, located error messages. Config problems are gathered rather than
// thrown one at a time, so a user fixes a job file in one pass:
//   job.yaml:12:7: error: trainer.callbacks[0].init_args.write_intervl: unknown key (did you mean write_interval?)
#include <span>
#include <string>
#include <vector>

namespace minitrain {

struct SourceLocation {
  std::string file;  // a path, or "command line (--a.b=c)" for overrides
  int line = 0;      // 1-based; 0 when there is no line (command line)
  int column = 0;    // 1-based
};

struct Diagnostic {
  SourceLocation where;
  std::string path;     // dotted YAML path, e.g. trainer.callbacks[0].plugin
  std::string message;  // what was expected and how to fix it
  std::string format() const;
};

class Diagnostics {
 public:
  void error(SourceLocation where, std::string path, std::string message);
  bool empty() const { return items_.empty(); }
  const std::vector<Diagnostic>& items() const { return items_; }
  std::string format() const;  // one line per diagnostic
  // Throws ConfigError carrying every collected diagnostic, if there is any.
  void throw_if_any() const;

 private:
  std::vector<Diagnostic> items_;
};

// The closest candidate by edit distance, when it is close enough to be a
// plausible misspelling; empty otherwise.
std::string closest_match(const std::string& word, std::span<const std::string> candidates);

// " (did you mean X?)" or "" — ready to append to a message.
std::string did_you_mean(const std::string& word, std::span<const std::string> candidates);

}  // namespace minitrain
