#pragma once
// `minitrain launch --nproc N [--max_restarts K] fit|validate|predict ...`:
// starts N ranks of this same executable on this machine with torchrun's
// variables set, waits for them, and stops the others as soon as one fails.
// Then, as torchrun's --max_restarts, it starts all of them again, up to K
// times: each restart's ranks see MINITRAIN_RESTART_COUNT, so fit goes on from
// its last training checkpoint and a prediction_writer resumes.
#include <optional>
#include <string>
#include <vector>

namespace minitrain::cli {

struct LaunchRequest {
  int nproc = 1;
  std::optional<int> master_port;  // none: a free port of this machine
  int max_restarts = 0;             // times all ranks are started again after one fails
  std::vector<std::string> command;  // e.g. {"fit", "--config", "job.yaml"}
};

// The exit code of the run: 0 when every rank succeeded, else that of the rank whose
// failure ended the last attempt.
int launch(const LaunchRequest& request);

}  // namespace minitrain::cli
