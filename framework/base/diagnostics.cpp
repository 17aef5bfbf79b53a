#include "minitrain/base/diagnostics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>
#include <tuple>

#include "minitrain/base/error.hpp"

namespace minitrain {

std::string Diagnostic::format() const {
  std::string location = where.file;
  if (where.line > 0) location += fmt::format(":{}:{}", where.line, where.column);
  if (path.empty()) return fmt::format("{}: error: {}", location, message);
  return fmt::format("{}: error: {}: {}", location, path, message);
}

void Diagnostics::error(SourceLocation where, std::string path, std::string message) {
  items_.push_back({std::move(where), std::move(path), std::move(message)});
}

std::string Diagnostics::format() const {
  // In file order, so the messages read top to bottom like the job file.
  std::vector<Diagnostic> sorted = items_;
  std::stable_sort(sorted.begin(), sorted.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::tie(a.where.file, a.where.line, a.where.column) < std::tie(b.where.file, b.where.line, b.where.column);
  });
  std::string text;
  for (const auto& item : sorted) {
    if (!text.empty()) text += '\n';
    text += item.format();
  }
  return text;
}

void Diagnostics::throw_if_any() const {
  if (!items_.empty()) throw ConfigError(format());
}

namespace {
std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  std::iota(row.begin(), row.end(), 0);
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}
}  // namespace

std::string closest_match(const std::string& word, std::span<const std::string> candidates) {
  std::string best;
  std::size_t best_distance = std::string::npos;
  for (const auto& candidate : candidates) {
    const std::size_t d = edit_distance(word, candidate);
    if (d < best_distance) {
      best_distance = d;
      best = candidate;
    }
  }
  // Close enough to be a typo: a third of the word, at least 2 edits.
  const std::size_t allowed = std::max<std::size_t>(2, word.size() / 3);
  return best_distance <= allowed ? best : std::string();
}

std::string did_you_mean(const std::string& word, std::span<const std::string> candidates) {
  const std::string match = closest_match(word, candidates);
  return match.empty() ? std::string() : fmt::format(" (did you mean {}?)", match);
}

}  // namespace minitrain
