#include "minitrain/pickle_repair.hpp"

#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>

namespace minitrain {

namespace {

// Follows the stack effect of every opcode torch.save's protocol-2 pickles use,
// remembering where each stack item's pushing began, so that for a SETITEM the
// start of its key (for an APPEND, of its item) is known: a MARK inserted there
// and SETITEMS (APPENDS) instead add the same item.
class StackTracer {
 public:
  explicit StackTracer(std::span<const char> program) : p_(program) {}

  // Offsets where a MARK goes, and of the SETITEMs and APPENDs; nullopt on anything unknown.
  std::optional<std::pair<std::vector<std::size_t>, std::vector<std::size_t>>> trace() {
    std::vector<std::size_t> marks_to_insert;
    std::vector<std::size_t> single_adds;
    std::size_t at = 0;
    while (at < p_.size()) {
      const std::size_t op_at = at;
      const auto op = static_cast<unsigned char>(p_[at++]);
      switch (op) {
        case '.': return std::pair{marks_to_insert, single_adds};  // STOP
        case '(': marks_.push_back({op_at, stack_.size()}); break;
        case 'N': case 0x88: case 0x89: case '}': case ']': case ')': push(op_at); break;
        case 't': case 'l': case 'd': if (!collapse_to_mark()) return std::nullopt; break;
        case 0x85: if (!replace(1)) return std::nullopt; break;
        case 0x86: if (!replace(2)) return std::nullopt; break;
        case 0x87: if (!replace(3)) return std::nullopt; break;
        case 'a':
          if (stack_.size() < 2) return std::nullopt;
          marks_to_insert.push_back(stack_.back());
          single_adds.push_back(op_at);
          pop(1);
          break;
        case 'b': case '0': if (!pop(1)) return std::nullopt; break;
        case 's':
          if (stack_.size() < 3) return std::nullopt;
          marks_to_insert.push_back(stack_[stack_.size() - 2]);
          single_adds.push_back(op_at);
          pop(2);
          break;
        case 'e': case 'u': case '1': if (!pop_to_mark()) return std::nullopt; break;
        case 'R': case 0x81: case 0x93: if (!replace(2)) return std::nullopt; break;
        case 'Q': if (!replace(1)) return std::nullopt; break;
        case '2': if (stack_.empty()) return std::nullopt; push(stack_.back()); break;
        case 0x94: break;                                                           // MEMOIZE
        case 0x80: case 'q': if (!skip(at, 1)) return std::nullopt; break;          // PROTO, BINPUT
        case 'r': if (!skip(at, 4)) return std::nullopt; break;                     // LONG_BINPUT
        case 'K': case 'h': if (!skip(at, 1)) return std::nullopt; push(op_at); break;
        case 'M': if (!skip(at, 2)) return std::nullopt; push(op_at); break;
        case 'J': case 'j': if (!skip(at, 4)) return std::nullopt; push(op_at); break;
        case 'G': if (!skip(at, 8)) return std::nullopt; push(op_at); break;
        case 0x8a: case 'C': case 'U': case 0x8c: if (!skip_sized(at, 1)) return std::nullopt; push(op_at); break;
        case 0x8b: case 'X': case 'B': case 'T': if (!skip_sized(at, 4)) return std::nullopt; push(op_at); break;
        case 0x8d: if (!skip_sized(at, 8)) return std::nullopt; push(op_at); break;
        case 'c': if (!skip_line(at) || !skip_line(at)) return std::nullopt; push(op_at); break;
        case 'I': case 'L': case 'F': case 'V': case 'S': case 'g': case 'P':
          if (!skip_line(at)) return std::nullopt;
          push(op_at);
          break;
        case 'p': if (!skip_line(at)) return std::nullopt; break;
        default: return std::nullopt;  // FRAME and anything else: leave the program alone
      }
    }
    return std::nullopt;  // no STOP
  }

 private:
  struct Mark {
    std::size_t offset;
    std::size_t depth;
  };

  void push(std::size_t start) { stack_.push_back(start); }
  bool pop(std::size_t n) {
    if (stack_.size() < n) return false;
    stack_.resize(stack_.size() - n);
    return true;
  }
  // Pops n items and pushes one result that began where the first of them did.
  bool replace(std::size_t n) {
    if (stack_.size() < n || n == 0) return false;
    const std::size_t start = stack_[stack_.size() - n];
    pop(n);
    push(start);
    return true;
  }
  bool pop_to_mark() {
    if (marks_.empty() || stack_.size() < marks_.back().depth) return false;
    stack_.resize(marks_.back().depth);
    marks_.pop_back();
    return true;
  }
  bool collapse_to_mark() {
    if (marks_.empty()) return false;
    const std::size_t start = marks_.back().offset;
    if (!pop_to_mark()) return false;
    push(start);
    return true;
  }
  bool skip(std::size_t& at, std::size_t n) const {
    if (at + n > p_.size()) return false;
    at += n;
    return true;
  }
  bool skip_sized(std::size_t& at, std::size_t width) const {
    if (at + width > p_.size()) return false;
    std::uint64_t length = 0;
    std::memcpy(&length, p_.data() + at, width);  // little-endian, as pickle writes
    at += width;
    return skip(at, length);
  }
  bool skip_line(std::size_t& at) const {
    while (at < p_.size() && p_[at] != '\n') ++at;
    return skip(at, 1);
  }

  std::span<const char> p_;
  std::vector<std::size_t> stack_;  // where each item's pushing began
  std::vector<Mark> marks_;
};

}  // namespace

std::vector<char> repair_pickle(std::span<const char> program) {
  std::vector<char> out(program.begin(), program.end());
  const auto traced = StackTracer(program).trace();
  if (!traced || traced->second.empty()) return out;
  const auto& [marks, single_adds] = *traced;
  std::vector<bool> mark_before(program.size() + 1, false);
  for (const std::size_t offset : marks) mark_before[offset] = true;
  std::vector<bool> is_single_add(program.size(), false);
  for (const std::size_t offset : single_adds) is_single_add[offset] = true;
  out.clear();
  out.reserve(program.size() + marks.size());
  for (std::size_t i = 0; i < program.size(); ++i) {
    if (mark_before[i]) out.push_back('(');
    out.push_back(!is_single_add[i] ? program[i] : program[i] == 's' ? 'u' : 'e');
  }
  return out;
}

bool pickles_ordered_dict(std::span<const char> program) {
  // PROTO n, then the top-level value's first push: the OrderedDict class it is built from.
  constexpr std::string_view kOrderedDict = "ccollections\nOrderedDict\n";
  return program.size() > 2 + kOrderedDict.size() && std::string_view(program.data() + 2, kOrderedDict.size()) == kOrderedDict;
}

}  // namespace minitrain
