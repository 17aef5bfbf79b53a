#pragma once
// Several processes, one run: c10d's TCPStore for the rendezvous and
// ProcessGroupGloo for the collectives, as PyTorch's own DDP uses them. Every
// rank reads torchrun's variables, so torchrun-style launchers, Slurm scripts
// and `minitrain launch` all work.
#include <ATen/core/Tensor.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace minitrain {

// What a collective's error says when its cause is likely another rank's stop;
// a launcher looks for the rank whose error does not say it.
inline constexpr std::string_view kAnotherRankStopped = "another rank has probably stopped";

// This process's place in the run.
struct DistributedEnv {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  // GLOO_SOCKET_IFNAME, split at its commas: the interfaces the collectives use, as
  // PyTorch reads it. Empty: the one this host reaches MASTER_ADDR through.
  std::vector<std::string> socket_interfaces;
  // MINITRAIN_RESTART_COUNT: how often `minitrain launch --max_restarts` has started
  // the ranks again (0: the first attempt). A restart goes on from what was saved.
  int restart_count = 0;
};

// RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT, GLOO_SOCKET_IFNAME and
// MINITRAIN_RESTART_COUNT (none set: one process, first attempt). Throws ConfigError naming the variable that is malformed or missing.
using EnvLookup = std::function<const char*(const char*)>;
DistributedEnv distributed_env_from(const EnvLookup& lookup);
DistributedEnv distributed_env();  // from this process's environment

// The collectives a data-parallel run needs. A failure (a rank that died,
// one that never arrived within the timeout, a port in use) is an Error that
// says which rank, what it was doing and what to check.
class Communicator {
 public:
  Communicator(const DistributedEnv& env, std::chrono::milliseconds timeout);
  ~Communicator();
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;

  int rank() const { return env_.rank; }
  int world_size() const { return env_.world_size; }

  // Every rank's tensors become rank 0's, in place.
  void broadcast_from_rank0(const std::vector<at::Tensor>& tensors, const char* what);
  // Every tensor becomes the mean over ranks, in place, reduced in buckets
  // of about bucket_bytes (DDP's default 25 MiB) rather than one call each.
  void average(const std::vector<at::Tensor>& tensors, std::size_t bucket_bytes = 25u << 20);
  // Sums each value over ranks.
  std::vector<double> sum(const std::vector<double>& values);
  // Every rank's text, in rank order, on every rank.
  std::vector<std::string> all_gather(const std::string& text, const char* what);
  void barrier();

 private:
  struct Group;
  DistributedEnv env_;
  std::chrono::milliseconds timeout_;
  std::unique_ptr<Group> group_;
  std::unique_ptr<class Liveness> liveness_;  // names the rank lost when a collective fails
};

}  // namespace minitrain
