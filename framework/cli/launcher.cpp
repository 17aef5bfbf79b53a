#include "launcher.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <optional>
#include <thread>

#include "minitrain/base/error.hpp"
#include "minitrain/base/log.hpp"

namespace minitrain::cli {

namespace {

// A port nothing listens on now: the kernel's pick for a socket bound to port 0.
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw Error(fmt::format("cannot open a socket to find a free port: {}", std::strerror(errno)));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
  ::close(fd);
  if (!ok) throw Error(fmt::format("cannot find a free port: {}; pass --master_port", std::strerror(errno)));
  return ntohs(address.sin_port);
}

int exit_code_of(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }

using Clock = std::chrono::steady_clock;
constexpr auto kGracePeriod = std::chrono::seconds(10);

volatile sig_atomic_t forwarded_signal = 0;
void remember_signal(int signal) { forwarded_signal = signal; }

}  // namespace

int launch(const LaunchRequest& request) {
  if (request.nproc < 1) throw ConfigError(fmt::format("--nproc must be at least 1, got {}", request.nproc));
  const int port = request.master_port.value_or(free_port());
  log::info(fmt::format("launching {} ranks of `minitrain {}` with MASTER_ADDR=127.0.0.1 MASTER_PORT={}", request.nproc,
                        request.command.empty() ? "" : request.command.front(), port));

  std::vector<std::string> arguments{"minitrain"};
  arguments.insert(arguments.end(), request.command.begin(), request.command.end());
  arguments.push_back(fmt::format("--trainer.devices={}", request.nproc));
  std::vector<char*> argv;
  for (std::string& argument : arguments) argv.push_back(argument.data());
  argv.push_back(nullptr);

  // Ctrl-C or a scheduler's SIGTERM reaches every rank; the launcher waits for them.
  struct sigaction forward {};
  forward.sa_handler = remember_signal;
  ::sigaction(SIGINT, &forward, nullptr);
  ::sigaction(SIGTERM, &forward, nullptr);

  std::map<pid_t, int> ranks;  // pid -> rank
  for (int rank = 0; rank < request.nproc; ++rank) {
    const pid_t pid = ::fork();
    if (pid < 0) throw Error(fmt::format("cannot start rank {}: {}", rank, std::strerror(errno)));
    if (pid == 0) {
      ::setenv("RANK", std::to_string(rank).c_str(), 1);
      ::setenv("LOCAL_RANK", std::to_string(rank).c_str(), 1);
      ::setenv("WORLD_SIZE", std::to_string(request.nproc).c_str(), 1);
      ::setenv("LOCAL_WORLD_SIZE", std::to_string(request.nproc).c_str(), 1);
      ::setenv("MASTER_ADDR", "127.0.0.1", 1);
      ::setenv("MASTER_PORT", std::to_string(port).c_str(), 1);
      ::execv("/proc/self/exe", argv.data());
      std::fprintf(stderr, "minitrain launch: cannot run rank %d: %s\n", rank, std::strerror(errno));
      std::_Exit(127);
    }
    ranks[pid] = rank;
  }

  int result = 0;
  std::optional<Clock::time_point> stopping_since;
  auto stop_others = [&](int signal) {
    for (const auto& [pid, rank] : ranks) ::kill(pid, signal);
  };
  while (!ranks.empty()) {
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid < 0 && errno != EINTR) throw Error(fmt::format("waiting for the ranks failed: {}", std::strerror(errno)));
    if (forwarded_signal && !stopping_since) {
      stop_others(forwarded_signal);
      stopping_since = Clock::now();
    }
    if (pid <= 0) {
      // A rank stuck where it cannot see the signal (connecting, in a collective) is killed after the grace period.
      if (stopping_since && Clock::now() - *stopping_since > kGracePeriod) stop_others(SIGKILL);
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    const auto found = ranks.find(pid);
    if (found == ranks.end()) continue;
    const int rank = found->second;
    ranks.erase(found);
    const int code = exit_code_of(status);
    if (code != 0 && result == 0) {
      result = code;
      if (!ranks.empty() && !stopping_since) {
        log::warn(fmt::format("rank {} exited with {}; stopping the other ranks", rank, code));
        stop_others(SIGTERM);
        stopping_since = Clock::now();
      }
    }
  }
  return result;
}

}  // namespace minitrain::cli
