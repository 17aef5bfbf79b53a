// Ranks on separate network hosts (network namespaces joined by veth pairs):
// the same results as on one host, and the errors of a network set up wrong.
#include <fmt/format.h>

#include <string>
#include <vector>

#include "e2e/cli_runner.hpp"
#include "e2e/linear_job.hpp"
#include "e2e/virtual_hosts.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

using minitrain::testing::TempDir;
using namespace minitrain::e2e;

namespace {

struct RankPlace {
  int host;
  std::string environment;  // extra variables for this rank, e.g. GLOO_SOCKET_IFNAME=eth0
};

// Starts one rank per place, each on its host with torchrun's variables (rank 0 on
// host 0's address), runs `meanwhile` (shell), waits for all and prints "rank R exit CODE"
// for each, runs `afterwards`, then prints their logs.
Result run_ranks(const VirtualHosts& hosts, const std::vector<RankPlace>& places, const std::string& args,
                 const fs::path& logs, const std::string& meanwhile = "", const std::string& afterwards = "") {
  const int world = static_cast<int>(places.size());
  std::string script;
  for (int rank = 0; rank < world; ++rank) {
    const RankPlace& place = places[static_cast<std::size_t>(rank)];
    int local_rank = 0;
    for (int before = 0; before < rank; ++before) local_rank += places[static_cast<std::size_t>(before)].host == place.host;
    script += fmt::format(
        "{}env RANK={} LOCAL_RANK={} WORLD_SIZE={} MASTER_ADDR={} MASTER_PORT=29500 {} timeout -s KILL 120 '{}' {} >{} 2>&1 & P{}=$!; ",
        hosts.on(place.host), rank, local_rank, world, hosts.address(0), place.environment, kCli, args,
        (logs / fmt::format("rank{}.log", rank)).string(), rank);
  }
  script += meanwhile;
  for (int rank = 0; rank < world; ++rank) script += fmt::format("wait $P{0}; echo \"rank {0} exit $?\"; ", rank);
  script += afterwards;
  for (int rank = 0; rank < world; ++rank) script += fmt::format("cat {}; ", (logs / fmt::format("rank{}.log", rank)).string());
  return run("( " + script + ")");  // one command, so that all of it runs where run() changes directory to
}

}  // namespace

TEST_CASE("fit with its 2 ranks on 2 hosts reaches the weights the same ranks reach on one host") {
  const VirtualHosts hosts(2);
  if (!hosts_or_skip(hosts)) return;
  TempDir dir;
  const fs::path job = linear_job(dir);
  const std::string fit = fmt::format("fit --config {} --data.batch_size=4 --trainer.distributed_timeout_s=30 ", job.string());
  const Result one_host = run_cli(fmt::format("launch --nproc 2 {} --trainer.default_root_dir={}", fit, (dir / "one").string()));
  INFO(one_host.output);
  REQUIRE(one_host.exit_code == 0);

  const Result two_hosts = run_ranks(hosts, {{0, "GLOO_SOCKET_IFNAME=eth0"}, {1, "GLOO_SOCKET_IFNAME=eth0"}},
                                     fmt::format("{} --trainer.num_nodes=2 --trainer.default_root_dir={}", fit,
                                                 (dir / "two").string()),
                                     dir.path());
  INFO(two_hosts.output);
  REQUIRE(two_hosts.output.find("rank 0 exit 0\nrank 1 exit 0\n") != std::string::npos);
  CHECK(two_hosts.output.find("2 ranks met at 10.77.0.1:29500 in ") != std::string::npos);
  check_same_trained_weights(dir, "one", "two", 0);
}

TEST_CASE("predict with 2 ranks on each of 2 hosts writes what 4 ranks on one host write, and collect merges it alike") {
  const VirtualHosts hosts(2);
  if (!hosts_or_skip(hosts)) return;
  TempDir dir;
  const std::string predict = "predict --config configs/predict.yaml --ckpt_path=null --trainer.distributed_timeout_s=30 "
                              "--trainer.default_root_dir=" + (dir / "runs").string() + " --trainer.callbacks[0].init_args.output_dir=";
  const Result one_host = run_cli(fmt::format("launch --nproc 4 {}{}", predict, (dir / "one").string()));
  INFO(one_host.output);
  REQUIRE(one_host.exit_code == 0);

  // No GLOO_SOCKET_IFNAME: each rank's collectives take the interface that reaches MASTER_ADDR.
  const Result two_hosts = run_ranks(hosts, {{0, ""}, {0, ""}, {1, ""}, {1, ""}},
                                     fmt::format("{}{} --trainer.devices=2 --trainer.num_nodes=2", predict, (dir / "two").string()),
                                     dir.path());
  INFO(two_hosts.output);
  REQUIRE(two_hosts.output.find("rank 0 exit 0\nrank 1 exit 0\nrank 2 exit 0\nrank 3 exit 0\n") != std::string::npos);
  const Result manifest = run(fmt::format("{} tests/e2e/check_manifest.py {} 4", MINITRAIN_PYTHON, (dir / "two").string()));
  INFO(manifest.output);
  CHECK(manifest.output.find(" of 4 rank(s), 45 samples") != std::string::npos);

  for (const char* run_dir : {"one", "two"}) {
    const Result collect = run_cli(fmt::format("collect --input {} --output {}.pt", (dir / run_dir).string(), (dir / run_dir).string()));
    INFO(collect.output);
    REQUIRE(collect.exit_code == 0);
  }
  const Result same = run(fmt::format("cmp {}.pt {}.pt && echo same bytes", (dir / "one").string(), (dir / "two").string()));
  INFO(same.output);
  CHECK(same.output.find("same bytes") != std::string::npos);
}

TEST_CASE("a host cut off mid-fit: every rank ends within distributed_timeout_s, naming the rank it lost; nothing "
          "half-written") {
  const VirtualHosts hosts(2);
  if (!hosts_or_skip(hosts)) return;
  TempDir dir;
  const fs::path job = linear_job(dir);
  const fs::path log0 = dir / "rank0.log";
  // Once rank 0 has finished 3 epochs, host 1's link goes down; the script then times how long the ranks take to end.
  const std::string cut_mid_fit = fmt::format(
      "for i in $(seq 1200); do grep -q 'epoch 3 done' {} && break; sleep 0.05; done; {}; cut_at=$(date +%s.%N); ",
      log0.string(), hosts.cut(1));
  const Result r = run_ranks(hosts, {{0, ""}, {1, ""}},
                             fmt::format("fit --config {} --data.batch_size=4 --trainer.max_epochs=100000 "
                                         "--optimizer.init_args.lr=0.001 --trainer.num_nodes=2 "
                                         "--trainer.distributed_timeout_s=5 --trainer.default_root_dir={}",
                                         job.string(), (dir / "run").string()),
                             dir.path(),
                             cut_mid_fit, "echo \"ended $(awk \"BEGIN {print int($(date +%s.%N) - $cut_at)}\") s after the cut\"; ");
  INFO(r.output);
  CHECK(r.output.find("rank 0 exit 1\nrank 1 exit 1\n") != std::string::npos);
  for (const char* rank : {"rank 0: ", "rank 1: "})  // in whichever collective the cut found it
    CHECK((r.output.find(std::string(rank) + "averaging gradients failed: ") != std::string::npos ||
           r.output.find(std::string(rank) + "summing metrics failed: ") != std::string::npos));
  CHECK(r.output.find("another rank has probably stopped: lost rank 1, not heard from for ") != std::string::npos);
  CHECK(r.output.find("another rank has probably stopped: lost rank 0, whose host has not answered for ") != std::string::npos);
  const auto ended = r.output.find(" s after the cut");
  REQUIRE(ended != std::string::npos);
  const int seconds = std::stoi(r.output.substr(r.output.rfind("ended ", ended) + 6));
  CHECK(seconds <= 5 + 3);  // the timeout, and process exit on a busy machine
  // The last checkpoint is whole and loads; no temporary is left, and no final weights were written.
  const Result loads = run(fmt::format("{} -c \"import torch; c = torch.load('{}'); print('epochs_done', c['epochs_done'])\"",
                                       MINITRAIN_PYTHON, (dir / "run" / "checkpoints" / "last.pt").string()));
  INFO(loads.output);
  CHECK(loads.output.find("epochs_done ") != std::string::npos);
  CHECK_FALSE(fs::exists(dir / "run" / "checkpoints" / "weights.pt"));
  for (const auto& entry : fs::recursive_directory_iterator(dir / "run"))
    CHECK_MESSAGE(entry.path().filename().string().find(".tmp") == std::string::npos, entry.path());
}

TEST_CASE("a host that has no route to MASTER_ADDR is told so at once") {
  const VirtualHosts hosts(1);
  if (!hosts_or_skip(hosts)) return;
  TempDir dir;
  const Result r = run(fmt::format(
      "{}env RANK=1 WORLD_SIZE=2 MASTER_ADDR=10.99.0.1 MASTER_PORT=29500 timeout 60 '{}' predict --config configs/predict.yaml "
      "--ckpt_path=null --trainer.num_nodes=2 --trainer.callbacks[0].init_args.output_dir={} --trainer.default_root_dir={}",
      hosts.on(0), kCli, (dir / "out").string(), (dir / "runs").string()));
  INFO(r.output);
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("minitrain: error: rank 1: no route from this host to MASTER_ADDR=10.99.0.1 (Network is unreachable); "
                      "check the address and this host's network") != std::string::npos);
  CHECK_FALSE(fs::exists(dir / "out"));
}
