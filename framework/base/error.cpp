#include "minitrain/base/error.hpp"

namespace minitrain {

// Out-of-line destructors anchor the vtables and type_info in the framework
// library, so a plugin and the host agree on one type for each error.
Error::~Error() = default;
ConfigError::~ConfigError() = default;
PluginError::~PluginError() = default;
DataError::~DataError() = default;

}  // namespace minitrain
