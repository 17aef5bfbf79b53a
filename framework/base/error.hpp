#pragma once
// The one error type that crosses the plugin boundary. Everything minitrain
// throws on purpose derives from Error, so the CLI can print it plainly and a
// plugin's failure reaches the host as a type both sides share.
#include <stdexcept>
#include <string>

namespace minitrain {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  ~Error() override;
};

// A job file, command-line override or plugin argument is wrong.
class ConfigError : public Error {
 public:
  using Error::Error;
  ~ConfigError() override;
};

// A plugin could not be found, loaded, handshaken or created.
class PluginError : public Error {
 public:
  using Error::Error;
  ~PluginError() override;
};

// Input data (FASTA, checkpoints, prediction files) is missing or malformed.
class DataError : public Error {
 public:
  using Error::Error;
  ~DataError() override;
};

}  // namespace minitrain
