#pragma once
// Which of this host's addresses the ranks' collectives use. Gloo binds its
// sockets to one local address and tells the other ranks to connect there, so
// on several hosts it must be the address the others can reach.
#include <string>
#include <vector>

namespace minitrain {

// The address this host sends from to reach `host` (the kernel's route for it):
// 127.0.0.1 for a rank 0 on this host's loopback, the right interface's address
// for a rank 0 on another host. Throws Error when `host` cannot be resolved or reached.
std::string local_address_towards(const std::string& host);

// This host's network interfaces by name, for messages that ask for one.
std::vector<std::string> network_interface_names();

}  // namespace minitrain
