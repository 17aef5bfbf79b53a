#pragma once
// SHA-256 (OpenSSL's libcrypto) in lower-case hex, as `sha256sum` prints it:
// how a manifest names the job and the model a run used.
#include <filesystem>
#include <string>
#include <string_view>

namespace minitrain {

std::string sha256_hex(std::string_view bytes);
// Reads the file in pieces; throws DataError naming it when it cannot be read.
std::string file_sha256_hex(const std::filesystem::path& file);

}  // namespace minitrain
