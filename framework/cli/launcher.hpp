#pragma once
// `minitrain launch --nproc N fit|validate|predict ...`: starts N ranks of
// this same executable on this machine with torchrun's variables set, waits
// for them, and stops the others as soon as one fails (SIGTERM, then SIGKILL
// for any still running 10 s later).
#include <optional>
#include <string>
#include <vector>

namespace minitrain::cli {

struct LaunchRequest {
  int nproc = 1;
  std::optional<int> master_port;  // none: a free port of this machine
  std::vector<std::string> command;  // e.g. {"fit", "--config", "job.yaml"}
};

// The exit code of the run: 0 when every rank succeeded, else the first failing rank's.
int launch(const LaunchRequest& request);

}  // namespace minitrain::cli
