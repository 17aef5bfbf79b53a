#include "rank_processes.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>

#include "minitrain/base/error.hpp"
#include "minitrain/base/log.hpp"
#include "minitrain/distributed/distributed.hpp"

namespace minitrain::cli {

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kGracePeriod = std::chrono::seconds(10);

volatile sig_atomic_t received_signal = 0;
void remember_signal(int signal) { received_signal = signal; }

int exit_code_of(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }

struct Rank {
  int rank = 0;
  int stderr_fd = -1;    // read end of the rank's stderr; -1 once it is closed
  std::string partial;   // a line not yet ended
  std::string last_line;
  bool running = true;
};

// Passes on what a rank wrote to stderr, whole lines at a time so that ranks do not interleave mid-line.
void pass_on(Rank& r, bool until_closed) {
  char buffer[8192];
  while (r.stderr_fd >= 0) {
    const ssize_t n = ::read(r.stderr_fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN && !until_closed) return;
    if (n <= 0) {
      ::close(r.stderr_fd);
      r.stderr_fd = -1;
      break;
    }
    r.partial.append(buffer, static_cast<std::size_t>(n));
    for (std::size_t end; (end = r.partial.find('\n')) != std::string::npos;) {
      (void)!::write(STDERR_FILENO, r.partial.data(), end + 1);  // one line, one write: lines of ranks never mix
      if (end > 0) r.last_line = r.partial.substr(0, end);
      r.partial.erase(0, end + 1);
    }
  }
  if (!r.partial.empty()) {
    (void)!::write(STDERR_FILENO, r.partial.data(), r.partial.size());
    (void)!::write(STDERR_FILENO, "\n", 1);
    r.last_line = r.partial;
    r.partial.clear();
  }
}

pid_t start_rank(const AttemptSpec& spec, int rank, int stderr_write_end) {
  std::vector<std::string> arguments = spec.arguments;
  std::vector<char*> argv;
  for (std::string& argument : arguments) argv.push_back(argument.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) throw Error(fmt::format("cannot start rank {}: {}", rank, std::strerror(errno)));
  if (pid > 0) return pid;
  ::dup2(stderr_write_end, STDERR_FILENO);
  const std::string restarts = std::to_string(spec.restart_count);
  ::setenv("RANK", std::to_string(rank).c_str(), 1);
  ::setenv("LOCAL_RANK", std::to_string(rank).c_str(), 1);
  ::setenv("WORLD_SIZE", std::to_string(spec.nproc).c_str(), 1);
  ::setenv("LOCAL_WORLD_SIZE", std::to_string(spec.nproc).c_str(), 1);
  ::setenv("MASTER_ADDR", "127.0.0.1", 1);
  ::setenv("MASTER_PORT", std::to_string(spec.master_port).c_str(), 1);
  ::setenv("MINITRAIN_RESTART_COUNT", restarts.c_str(), 1);
  ::setenv("TORCHELASTIC_RESTART_COUNT", restarts.c_str(), 1);
  ::execv("/proc/self/exe", argv.data());
  std::fprintf(stderr, "minitrain launch: cannot run rank %d: %s\n", rank, std::strerror(errno));
  std::_Exit(127);
}

}  // namespace

std::string describe_exit(int exit_code) {
  if (exit_code <= 128) return fmt::format("exited with {}", exit_code);
  const char* name = sigabbrev_np(exit_code - 128);
  return fmt::format("was killed by SIG{} (exit {})", name ? name : std::to_string(exit_code - 128), exit_code);
}

AttemptOutcome run_attempt(const AttemptSpec& spec) {
  // Ctrl-C or a scheduler's SIGTERM reaches every rank; the launcher waits for them.
  received_signal = 0;
  struct sigaction forward {};
  forward.sa_handler = remember_signal;
  ::sigaction(SIGINT, &forward, nullptr);
  ::sigaction(SIGTERM, &forward, nullptr);

  std::map<pid_t, Rank> ranks;
  for (int rank = 0; rank < spec.nproc; ++rank) {
    int pipe_ends[2];
    if (::pipe2(pipe_ends, O_CLOEXEC) != 0) throw Error(fmt::format("cannot start rank {}: {}", rank, std::strerror(errno)));
    const pid_t pid = start_rank(spec, rank, pipe_ends[1]);
    ::close(pipe_ends[1]);
    ::fcntl(pipe_ends[0], F_SETFL, O_NONBLOCK);
    Rank& started = ranks[pid];
    started.rank = rank;
    started.stderr_fd = pipe_ends[0];
  }

  AttemptOutcome outcome;
  std::optional<Clock::time_point> stopping_since;
  auto stop_all = [&](int signal) {
    for (const auto& [pid, r] : ranks)
      if (r.running) ::kill(pid, signal);
  };
  std::size_t running = ranks.size();
  while (running > 0) {
    std::vector<pollfd> fds;
    for (const auto& [pid, r] : ranks)
      if (r.stderr_fd >= 0) fds.push_back({r.stderr_fd, POLLIN, 0});
    ::poll(fds.data(), fds.size(), 50);
    for (auto& [pid, r] : ranks) pass_on(r, false);
    if (received_signal && !stopping_since) {
      outcome.signal = received_signal;
      stop_all(received_signal);
      stopping_since = Clock::now();
    }
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid < 0 && errno != EINTR && errno != ECHILD)
      throw Error(fmt::format("waiting for the ranks failed: {}", std::strerror(errno)));
    const auto found = pid > 0 ? ranks.find(pid) : ranks.end();
    if (found == ranks.end()) {
      // A rank stuck where it cannot see the signal (connecting, in a collective) is killed after the grace period.
      if (stopping_since && Clock::now() - *stopping_since > kGracePeriod) stop_all(SIGKILL);
      continue;
    }
    Rank& r = found->second;
    r.running = false;
    --running;
    pass_on(r, true);
    const int code = exit_code_of(status);
    if (code == 0) continue;
    if (outcome.signal) {  // stopping as asked: the run ends as the signal ends a rank, whatever order they end in
      if (outcome.exit_code == 0 || code == 128 + outcome.signal) outcome.exit_code = code;
      continue;
    }
    // Ranks that fail together are reaped in any order; the one that did not fail for another's stop is the cause.
    const bool stopped_by_launcher = stopping_since && (code == 128 + SIGTERM || code == 128 + SIGKILL);
    const bool own_failure = !stopped_by_launcher && r.last_line.find(kAnotherRankStopped) == std::string::npos;
    const bool first_blamed_another =
        outcome.failure && outcome.failure->last_line.find(kAnotherRankStopped) != std::string::npos;
    if (!outcome.failure || (own_failure && first_blamed_another)) outcome.failure = RankFailure{r.rank, code, r.last_line};
    if (outcome.exit_code != 0) continue;
    outcome.exit_code = code;
    if (running > 0) {
      log::warn(fmt::format("rank {} {}; stopping the other ranks", r.rank, describe_exit(code)));
      stop_all(SIGTERM);
      stopping_since = Clock::now();
    }
  }
  for (auto& [pid, r] : ranks) pass_on(r, true);
  return outcome;
}

}  // namespace minitrain::cli
