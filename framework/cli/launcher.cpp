#include "launcher.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "minitrain/base/error.hpp"
#include "minitrain/base/log.hpp"
#include "rank_processes.hpp"

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

constexpr int kExitConfigError = 2;  // a job that is wrong: running it again cannot help

}  // namespace

int launch(const LaunchRequest& request) {
  if (request.nproc < 1) throw ConfigError(fmt::format("--nproc must be at least 1, got {}", request.nproc));
  if (request.max_restarts < 0)
    throw ConfigError(fmt::format("--max_restarts must be at least 0, got {}", request.max_restarts));
  AttemptSpec spec;
  spec.nproc = request.nproc;
  spec.arguments = {"minitrain"};
  spec.arguments.insert(spec.arguments.end(), request.command.begin(), request.command.end());
  spec.arguments.push_back(fmt::format("--trainer.devices={}", request.nproc));
  const std::string stage = request.command.empty() ? "" : request.command.front();

  for (;; ++spec.restart_count) {
    spec.master_port = request.master_port.value_or(free_port());  // a restart's ranks meet afresh
    log::info(fmt::format("launching {} ranks of `minitrain {}` with MASTER_ADDR=127.0.0.1 MASTER_PORT={}", request.nproc,
                          stage, spec.master_port));
    const AttemptOutcome outcome = run_attempt(spec);
    if (outcome.exit_code == 0 || outcome.signal || !outcome.failure) return outcome.exit_code;
    const RankFailure& failure = *outcome.failure;
    // A rank that ended itself said why last; one a signal ended may have said anything before.
    std::string last_line = failure.last_line;
    if (last_line.rfind("minitrain: error: ", 0) == 0) last_line.erase(0, std::strlen("minitrain: error: "));
    const bool said_why = failure.exit_code < 128 && !last_line.empty();
    const std::string what = fmt::format("rank {} {}{}", failure.rank, describe_exit(failure.exit_code),
                                         said_why ? fmt::format(": {}", last_line) : "");
    if (failure.exit_code == kExitConfigError) {
      if (request.max_restarts > 0) fmt::print(stderr, "minitrain: error: {}: the job itself is wrong, so it is not restarted\n", what);
      return failure.exit_code;
    }
    if (spec.restart_count == request.max_restarts) {
      if (request.max_restarts > 0)
        fmt::print(stderr, "minitrain: error: giving up after {} restart(s) (--max_restarts {}): {}\n", spec.restart_count,
                   request.max_restarts, what);
      return failure.exit_code;
    }
    log::warn(fmt::format("restart {} of {}: {}; starting all {} ranks again ({})", spec.restart_count + 1,
                          request.max_restarts, what, request.nproc,
                          stage == "fit" ? "fit goes on from its last training checkpoint, checkpoints/last.pt"
                                         : "a prediction_writer keeps the complete files written so far"));
  }
}

}  // namespace minitrain::cli
