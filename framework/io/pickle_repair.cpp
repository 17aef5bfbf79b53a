#include "minitrain/io/pickle_repair.hpp"

#include <fmt/format.h>

#include <cstdint>
#include <cstring>
#include <string_view>

#include "minitrain/base/error.hpp"

namespace minitrain {

namespace {

// Follows the stack effect of every opcode torch.save's protocol-2 pickles use,
// remembering where each stack item's pushing began, so that for a SETITEM the
// start of its key (for an APPEND, of its item) is known: a MARK inserted there
// and SETITEMS (APPENDS) instead add the same item. A program these opcodes
// cannot be run on (an argument past its end, an empty stack, no STOP) is
// corrupt, and refused here: the unpickler would otherwise trust a length
// field and allocate up to 2^64 bytes for it.
class StackTracer {
 public:
  explicit StackTracer(std::span<const char> program) : p_(program) {}

  // Offsets where a MARK goes, and of the SETITEMs and APPENDs. Throws
  // DataError when the program is corrupt.
  std::pair<std::vector<std::size_t>, std::vector<std::size_t>> trace() {
    std::vector<std::size_t> marks_to_insert;
    std::vector<std::size_t> single_adds;
    std::size_t at = 0;
    while (at < p_.size()) {
      const std::size_t op_at = at;
      const auto op = static_cast<unsigned char>(p_[at++]);
      switch (op) {
        case '.': return {marks_to_insert, single_adds};  // STOP
        case '(': marks_.push_back({op_at, stack_.size()}); break;
        case 'N': case 0x88: case 0x89: case '}': case ']': case ')': push(op_at); break;
        case 't': case 'l': case 'd': if (!collapse_to_mark()) corrupt(op_at, "no MARK to collect items up to"); break;
        case 0x85: if (!replace(1)) underflow(op_at); break;
        case 0x86: if (!replace(2)) underflow(op_at); break;
        case 0x87: if (!replace(3)) underflow(op_at); break;
        case 'a':
          if (stack_.size() < 2) underflow(op_at);
          marks_to_insert.push_back(stack_.back());
          single_adds.push_back(op_at);
          pop(1);
          break;
        case '0': if (!pop(1)) underflow(op_at); break;
        case 'b':  // BUILD: the state on top applies to the object below it, which LibTorch reads unchecked
          if (stack_.size() < 2) underflow(op_at);
          pop(1);
          break;
        case 's':
          if (stack_.size() < 3) underflow(op_at);
          marks_to_insert.push_back(stack_[stack_.size() - 2]);
          single_adds.push_back(op_at);
          pop(2);
          break;
        case 'e': case 'u': case '1': if (!pop_to_mark()) corrupt(op_at, "no MARK to pop to"); break;
        case 'R': case 0x81: case 0x93: if (!replace(2)) underflow(op_at); break;
        case 'Q': if (!replace(1)) underflow(op_at); break;
        case '2': if (stack_.empty()) underflow(op_at); push(stack_.back()); break;
        case 0x94: break;                                  // MEMOIZE
        case 0x80: case 'q': skip(op_at, at, 1); break;   // PROTO, BINPUT
        case 'r': memo_index(op_at, at); break;           // LONG_BINPUT
        case 'K': case 'h': skip(op_at, at, 1); push(op_at); break;
        case 'M': skip(op_at, at, 2); push(op_at); break;
        case 'J': skip(op_at, at, 4); push(op_at); break;
        case 'j': memo_index(op_at, at); push(op_at); break;  // LONG_BINGET
        case 'G': skip(op_at, at, 8); push(op_at); break;
        case 0x8a: case 'C': case 'U': case 0x8c: skip_sized(op_at, at, 1); push(op_at); break;
        case 0x8b: case 'X': case 'B': case 'T': skip_sized(op_at, at, 4); push(op_at); break;
        case 0x8d: skip_sized(op_at, at, 8); push(op_at); break;
        case 'c':  // GLOBAL: module and name, a line each
          skip_line(op_at, at);
          skip_line(op_at, at);
          push(op_at);
          break;
        case 'I': case 'L': case 'F': case 'V': case 'S': case 'g': case 'P':
          skip_line(op_at, at);
          push(op_at);
          break;
        case 'p': skip_line(op_at, at); break;
        default:  // LibTorch's unpickler can be led into freeing garbage by opcodes torch.save never writes
          corrupt(op_at, fmt::format("opcode 0x{:02x} is not one that torch.save writes (pickle protocol 2)", op));
      }
    }
    corrupt(p_.size(), "the program ends without STOP");
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
  [[noreturn]] void corrupt(std::size_t offset, const std::string& what) const {
    throw DataError(fmt::format("corrupt pickle program (data.pkl), at byte {} of {}: {}", offset, p_.size(), what));
  }
  [[noreturn]] void underflow(std::size_t op_at) const {
    corrupt(op_at, fmt::format("opcode 0x{:02x} needs more items than the stack holds",
                               static_cast<unsigned char>(p_[op_at])));
  }
  // Moves past an opcode's n-byte argument, which must lie inside the program.
  void skip(std::size_t op_at, std::size_t& at, std::uint64_t n) const {
    if (n > p_.size() - at)
      corrupt(op_at, fmt::format("opcode 0x{:02x} has a {}-byte argument, but only {} byte(s) follow",
                                 static_cast<unsigned char>(p_[op_at]), n, p_.size() - at));
    at += n;
  }
  // An argument preceded by its length in `width` bytes.
  void skip_sized(std::size_t op_at, std::size_t& at, std::size_t width) const {
    skip(op_at, at, width);
    std::uint64_t length = 0;
    std::memcpy(&length, p_.data() + at - width, width);  // little-endian, as pickle writes
    skip(op_at, at, length);
  }
  // A 4-byte memo index. The unpickler sizes its memo table by it, so it must
  // be one a program of this length can have made (one entry per PUT).
  void memo_index(std::size_t op_at, std::size_t& at) const {
    skip(op_at, at, 4);
    std::uint32_t index = 0;
    std::memcpy(&index, p_.data() + at - 4, 4);
    if (index >= p_.size())
      corrupt(op_at, fmt::format("memo index {} in a program of {} bytes", index, p_.size()));
  }
  void skip_line(std::size_t op_at, std::size_t& at) const {
    std::size_t end = at;
    while (end < p_.size() && p_[end] != '\n') ++end;
    if (end == p_.size()) corrupt(op_at, "a text argument without its end of line");
    at = end + 1;
  }

  std::span<const char> p_;
  std::vector<std::size_t> stack_;  // where each item's pushing began
  std::vector<Mark> marks_;
};

}  // namespace

std::vector<char> repair_pickle(std::span<const char> program) {
  std::vector<char> out(program.begin(), program.end());
  const auto [marks, single_adds] = StackTracer(program).trace();
  if (single_adds.empty()) return out;
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
