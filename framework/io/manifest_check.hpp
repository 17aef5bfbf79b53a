#pragma once
// Whether a directory of prediction files is what its run wrote: with a
// manifest.json, every file it lists must be there with the same bytes and
// CRC-32, and no other prediction file may be; without one, the run may not
// have finished, which is logged as a warning.
#include <filesystem>

namespace minitrain {

// DataError naming the file that changed, went missing or was never listed, and the fix.
void check_against_manifest(const std::filesystem::path& input_dir);

}  // namespace minitrain
