// Callback's out-of-line destructor and default hooks: its vtable and type_info
// live in the framework library, which the host and every plugin share.
#include "minitrain/core/callback.hpp"

namespace minitrain {

Callback::~Callback() = default;
c10::IValue Callback::state_dict() const { return {}; }
void Callback::load_state_dict(const c10::IValue&) {}

}  // namespace minitrain
