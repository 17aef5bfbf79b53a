#include "minitrain/distributed/local_address.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <net/if.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "minitrain/base/error.hpp"

namespace minitrain {

std::string local_address_towards(const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* found = nullptr;
  if (const int error = ::getaddrinfo(host.c_str(), "9", &hints, &found); error != 0)
    throw Error(fmt::format("cannot resolve MASTER_ADDR={}: {}; set it to the address or host name of rank 0's host",
                            host, ::gai_strerror(error)));
  const std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owned(found, &::freeaddrinfo);
  std::string reason = "no address";
  for (const addrinfo* a = found; a; a = a->ai_next) {
    // Connecting a UDP socket sends nothing; it only makes the kernel pick the route and the source address.
    const int fd = ::socket(a->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    sockaddr_storage local{};
    socklen_t length = sizeof(local);
    const bool ok = ::connect(fd, a->ai_addr, a->ai_addrlen) == 0 &&
                    ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length) == 0;
    if (!ok) reason = std::strerror(errno);
    ::close(fd);
    if (!ok) continue;
    char text[INET6_ADDRSTRLEN] = {};
    const void* address = local.ss_family == AF_INET6 ? static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(&local)->sin6_addr)
                                                       : static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(&local)->sin_addr);
    if (::inet_ntop(local.ss_family, address, text, sizeof(text))) return text;
  }
  throw Error(fmt::format("no route from this host to MASTER_ADDR={} ({}); check the address and this host's network",
                          host, reason));
}

std::vector<std::string> network_interface_names() {
  std::vector<std::string> names;
  if (struct if_nameindex* interfaces = ::if_nameindex()) {
    for (const struct if_nameindex* i = interfaces; i->if_index != 0 && i->if_name; ++i) names.emplace_back(i->if_name);
    ::if_freenameindex(interfaces);
  }
  return names;
}

}  // namespace minitrain
