#pragma once
// What the libFuzzer targets run, also replayed by the unit tests over the
// committed corpus and every input that once found a bug
// (tests/fuzz/regressions). Each returns normally for any input: a
// minitrain::Error is the expected answer to bad input; anything else that
// escapes (another exception, a crash, a sanitizer report) is a bug.
#include <cstdint>
#include <span>

namespace minitrain::fuzzing {

// The bytes are a job file; leading lines that start with "--" are taken as
// command-line overrides (--trainer.max_epochs=3). Loads and checks it, and
// prints the resolved job when it is valid.
void job_config(std::span<const std::uint8_t> data);

// The bytes are one rank's epoch file for `minitrain collect`; when the first
// byte is 0 (a zip archive starts with 'P'), the rest is instead the pickle
// program (data.pkl) of an otherwise well-formed torch.save archive with one
// 64-byte storage, so that the unpickler is reached past the zip container's
// checks. When the first byte is 1, the rest is a .safetensors epoch file
// (with an IDs sidecar of two rows beside it), which reaches the safetensors
// header reader and the unpadded outputs' offsets check.
void prediction_file(std::span<const std::uint8_t> data);

// The bytes are a run record (run.jsonl) for `minitrain report`: read, then
// drawn as the report page.
void run_record(std::span<const std::uint8_t> data);

}  // namespace minitrain::fuzzing
