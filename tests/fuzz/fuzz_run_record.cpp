// libFuzzer entry point: see fuzz_targets.hpp for what the input means.
#include <cstddef>
#include <cstdint>

#include "fuzz_targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  minitrain::fuzzing::run_record({data, size});
  return 0;
}
