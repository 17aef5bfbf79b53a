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
// host 0's address), waits for all and prints "rank R exit CODE" for each, then their logs.
Result run_ranks(const VirtualHosts& hosts, const std::vector<RankPlace>& places, const std::string& args,
                 const fs::path& logs) {
  const int world = static_cast<int>(places.size());
  std::string script;
  for (int rank = 0; rank < world; ++rank) {
    const RankPlace& place = places[static_cast<std::size_t>(rank)];
    int local_rank = 0;
    for (int before = 0; before < rank; ++before) local_rank += places[static_cast<std::size_t>(before)].host == place.host;
    script += fmt::format(
        "{}env RANK={} LOCAL_RANK={} WORLD_SIZE={} MASTER_ADDR={} MASTER_PORT=29500 {} timeout 120 '{}' {} >{} 2>&1 & P{}=$!; ",
        hosts.on(place.host), rank, local_rank, world, hosts.address(0), place.environment, kCli, args,
        (logs / fmt::format("rank{}.log", rank)).string(), rank);
  }
  for (int rank = 0; rank < world; ++rank) script += fmt::format("wait $P{0}; echo \"rank {0} exit $?\"; ", rank);
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
                              "--trainer.callbacks[0].init_args.output_dir=";
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

TEST_CASE("a host that has no route to MASTER_ADDR is told so at once") {
  const VirtualHosts hosts(1);
  if (!hosts_or_skip(hosts)) return;
  TempDir dir;
  const Result r = run(fmt::format(
      "{}env RANK=1 WORLD_SIZE=2 MASTER_ADDR=10.99.0.1 MASTER_PORT=29500 timeout 60 '{}' predict --config configs/predict.yaml "
      "--ckpt_path=null --trainer.num_nodes=2 --trainer.callbacks[0].init_args.output_dir={}",
      hosts.on(0), kCli, (dir / "out").string()));
  INFO(r.output);
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("minitrain: error: rank 1: no route from this host to MASTER_ADDR=10.99.0.1 (Network is unreachable); "
                      "check the address and this host's network") != std::string::npos);
  CHECK_FALSE(fs::exists(dir / "out"));
}
