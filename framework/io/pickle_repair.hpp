#pragma once
// LibTorch 1.13's unpickler does not know SETITEM and APPEND, the opcodes
// Python's pickle uses to add a single item to a dict or list
// (pytorch/pytorch#67902): torch.save({"x": t}) or torch.save([t]) cannot be
// read back in C++. This rewrites each as the equivalent MARK ... SETITEMS or
// MARK ... APPENDS, which it does know, leaving everything else as it was.
#include <span>
#include <vector>

namespace minitrain {

// The program with every SETITEM and APPEND rewritten; unchanged when it has
// none. Throws DataError for a program that is corrupt (an argument running
// past its end, an item taken from an empty stack, a memo index it cannot
// have made, no STOP) or holds an opcode torch.save does not write: the
// unpickler would trust such a program's lengths and indices.
std::vector<char> repair_pickle(std::span<const char> program);

// Whether the pickled value is a collections.OrderedDict, as a Python
// state_dict() is: LibTorch 1.13 reads every OrderedDict as None.
bool pickles_ordered_dict(std::span<const char> program);

}  // namespace minitrain
