#pragma once
// One attempt of a launched run: N ranks of this executable started together
// with torchrun's variables, their stderr passed through line by line (its last
// line kept, for the launcher's own message), and all of them stopped as soon
// as one fails (SIGTERM, then SIGKILL for any still running 10 s later).
#include <optional>
#include <string>
#include <vector>

namespace minitrain::cli {

struct RankFailure {
  int rank = 0;
  int exit_code = 0;       // 128 + the signal for a rank a signal ended
  std::string last_line;   // the last line the rank wrote to stderr, often its error
};

struct AttemptOutcome {
  int exit_code = 0;                   // 0 when every rank succeeded
  // The rank whose failure started it: the first to fail of its own accord (not in a
  // collective that another rank's stop broke), else the first to fail.
  std::optional<RankFailure> failure;
  int signal = 0;                      // SIGINT or SIGTERM the launcher itself received (then forwarded)
};

struct AttemptSpec {
  int nproc = 1;
  int master_port = 0;
  int restart_count = 0;              // MINITRAIN_RESTART_COUNT for the ranks (and TORCHELASTIC_RESTART_COUNT)
  std::vector<std::string> arguments;  // argv of each rank, from "minitrain" on
};

// Runs the ranks to their end. Throws Error when a rank cannot be started.
AttemptOutcome run_attempt(const AttemptSpec& spec);

// "exited with 1" or "was killed by SIGKILL (exit 137)".
std::string describe_exit(int exit_code);

}  // namespace minitrain::cli
