#pragma once
// Hosts of one machine, for tests of runs that span several: each host a
// network namespace with its own address (10.77.0.1, .2, ...) on its eth0,
// every eth0 a veth pair's end whose other end sits on a bridge in a switch
// namespace. Nothing outside these namespaces is touched, and they go when
// the object does. Making them needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN).
#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "e2e/cli_runner.hpp"

namespace minitrain::e2e {

class VirtualHosts {
 public:
  explicit VirtualHosts(int count) : prefix_(fmt::format("mt{}", ::getpid())), count_(count) {
    if (::geteuid() != 0) {
      why_not_ = "network namespaces need root, and this test runs as another user";
      return;
    }
    std::string script = fmt::format("set -e; ip netns add {0}; ip -n {0} link add br0 type bridge; ip -n {0} link set br0 up",
                                     switch_name());
    for (int host = 0; host < count; ++host)
      script += fmt::format(
          "; ip netns add {0}; ip -n {0} link set lo up; ip link add eth0 netns {0} type veth peer name port{1} netns {2}"
          "; ip -n {0} addr add {3}/24 dev eth0; ip -n {0} link set eth0 up"
          "; ip -n {2} link set port{1} master br0; ip -n {2} link set port{1} up",
          name(host), host, switch_name(), address(host));
    script += fmt::format("; {}true", on(0));  // ip netns exec mounts /sys afresh, which not every sandbox allows
    const Result made = run(fmt::format("( {} ) 2>&1", script));
    if (made.exit_code != 0) why_not_ = "cannot make network namespaces here (ip netns, ip link): " + made.output;
  }
  ~VirtualHosts() {
    std::string script = "ip netns del " + switch_name();
    for (int host = 0; host < count_; ++host) script += "; ip netns del " + name(host);
    run(fmt::format("( {} ) >/dev/null 2>&1", script));
  }
  VirtualHosts(const VirtualHosts&) = delete;
  VirtualHosts& operator=(const VirtualHosts&) = delete;

  // Whether the hosts exist; if not, why_not() says what stopped them.
  bool ready() const { return why_not_.empty(); }
  const std::string& why_not() const { return why_not_; }

  std::string address(int host) const { return fmt::format("10.77.0.{}", host + 1); }
  // What runs a command on `host`: prefix it with this.
  std::string on(int host) const { return fmt::format("ip netns exec {} ", name(host)); }
  // The command that takes `host` off the network, as a pulled cable would.
  std::string cut(int host) const { return fmt::format("ip -n {} link set eth0 down", name(host)); }

 private:
  std::string name(int host) const { return fmt::format("{}h{}", prefix_, host); }
  std::string switch_name() const { return prefix_ + "s"; }
  std::string prefix_;
  int count_;
  std::string why_not_;
};

// True when `hosts` can be used. Otherwise the test is skipped with the reason,
// unless MINITRAIN_REQUIRE_NETNS is set (CI on a machine that can make them), where it fails.
inline bool hosts_or_skip(const VirtualHosts& hosts) {
  if (hosts.ready()) return true;
  if (std::getenv("MINITRAIN_REQUIRE_NETNS")) {
    FAIL_CHECK("MINITRAIN_REQUIRE_NETNS is set, but " << hosts.why_not());
  } else {
    MESSAGE("skipped: " << hosts.why_not());
  }
  return false;
}

}  // namespace minitrain::e2e
