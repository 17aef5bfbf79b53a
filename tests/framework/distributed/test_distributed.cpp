// torchrun's variables, sharded sampling, and the collectives between two
// ranks run as two threads of this process.
#include <ATen/ATen.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <set>
#include <thread>

#include "index_dataset.hpp"
#include "minitrain/data/data.hpp"
#include "minitrain/distributed/distributed.hpp"
#include "minitrain/base/error.hpp"

#include "doctest_torch.hpp"

using namespace minitrain;

namespace {

EnvLookup variables(std::map<std::string, std::string> values) {
  return [values = std::move(values)](const char* name) -> const char* {
    const auto found = values.find(name);
    return found == values.end() ? nullptr : found->second.c_str();
  };
}

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

std::vector<std::int64_t> shard_of(std::int64_t samples, Shard shard, bool shuffle) {
  DataLoader loader(std::make_shared<minitrain::testing::IndexDataset>(samples), {3, shuffle, false, 5, shard});
  loader.set_epoch(2);
  std::vector<std::int64_t> out;
  for (std::int64_t b = 0; b < loader.num_batches(); ++b)
    for (const std::int64_t i : loader.batch_indices(b)) out.push_back(i);
  return out;
}

}  // namespace

TEST_CASE("torchrun's variables say where a process sits, and bad ones are named") {
  const DistributedEnv alone = distributed_env_from(variables({}));
  CHECK(alone.world_size == 1);
  CHECK(alone.rank == 0);
  const DistributedEnv env = distributed_env_from(
      variables({{"RANK", "3"}, {"WORLD_SIZE", "4"}, {"LOCAL_RANK", "1"}, {"MASTER_ADDR", "node0"}, {"MASTER_PORT", "1234"}}));
  CHECK(env.rank == 3);
  CHECK(env.local_rank == 1);
  CHECK(env.master_addr == "node0");
  CHECK(env.master_port == 1234);
  CHECK(env.socket_interfaces.empty());
  CHECK(distributed_env_from(variables({{"GLOO_SOCKET_IFNAME", "eth0,,ib0,"}})).socket_interfaces ==
        std::vector<std::string>{"eth0", "ib0"});
  CHECK_THROWS_WITH_AS(distributed_env_from(variables({{"WORLD_SIZE", "two"}})),
                       "environment variable WORLD_SIZE='two': expected an integer of at least 1", ConfigError);
  CHECK_THROWS_WITH_AS(distributed_env_from(variables({{"WORLD_SIZE", "2"}, {"RANK", "2"}})),
                       "environment variable RANK=2 must be below WORLD_SIZE=2", ConfigError);
  CHECK_THROWS_WITH_AS(distributed_env_from(variables({{"WORLD_SIZE", "2"}, {"RANK", "1"}, {"MASTER_PORT", "9"}})),
                       doctest::Contains("WORLD_SIZE=2 but MASTER_ADDR is not set"), ConfigError);
}

TEST_CASE("shards: training ranks get equal shares, validation and predict ranks every sample exactly once") {
  for (const bool shuffle : {false, true}) {
    INFO("shuffle " << shuffle);
    std::multiset<std::int64_t> unrepeated, even;
    for (int rank = 0; rank < 3; ++rank) {
      const auto once = shard_of(10, {rank, 3, false}, shuffle);
      unrepeated.insert(once.begin(), once.end());
      const auto padded = shard_of(10, {rank, 3, true}, shuffle);
      CHECK(padded.size() == 4);  // 10 samples padded to 12 over 3 ranks
      even.insert(padded.begin(), padded.end());
    }
    CHECK(unrepeated.size() == 10);
    CHECK(std::set<std::int64_t>(unrepeated.begin(), unrepeated.end()).size() == 10);
    CHECK(even.size() == 12);
    CHECK(std::set<std::int64_t>(even.begin(), even.end()).size() == 10);
  }
  CHECK(shard_of(10, {1, 3, false}, false) == std::vector<std::int64_t>{1, 4, 7});
}

TEST_CASE("two ranks average gradients in buckets, sum metrics and share rank 0's tensors") {
  const int port = free_port();
  std::vector<at::Tensor> averaged(2), broadcast(2);
  std::vector<std::vector<double>> sums(2);
  std::vector<std::string> errors(2);
  auto rank_main = [&](int rank) {
    try {
      // Rank 1 names its interface as GLOO_SOCKET_IFNAME would; rank 0 takes the one that reaches MASTER_ADDR.
      const std::vector<std::string> interfaces = rank == 1 ? std::vector<std::string>{"lo"} : std::vector<std::string>{};
      Communicator communicator(DistributedEnv{rank, 2, rank, "127.0.0.1", port, interfaces}, std::chrono::seconds(20));
      // Three tensors, a bucket small enough to need two calls.
      std::vector<at::Tensor> gradients{at::full({3}, rank + 1.0), at::full({2, 2}, 10.0 * rank), at::full({5}, -rank * 1.0)};
      communicator.average(gradients, /*bucket_bytes=*/16);
      averaged[static_cast<std::size_t>(rank)] = at::cat({gradients[0], gradients[1].flatten(), gradients[2]});
      sums[static_cast<std::size_t>(rank)] = communicator.sum({1.0 + rank, 10.0});
      at::Tensor weights = at::full({4}, 100.0 + rank);
      communicator.broadcast_from_rank0({weights}, "test");
      broadcast[static_cast<std::size_t>(rank)] = weights;
      communicator.barrier();
    } catch (const std::exception& e) {
      errors[static_cast<std::size_t>(rank)] = e.what();
    }
  };
  std::thread other(rank_main, 1);
  rank_main(0);
  other.join();
  REQUIRE_MESSAGE(errors[0].empty(), errors[0]);
  REQUIRE_MESSAGE(errors[1].empty(), errors[1]);
  const at::Tensor expected = at::cat({at::full({3}, 1.5), at::full({4}, 5.0), at::full({5}, -0.5)});
  CHECK(at::equal(averaged[0], expected));
  CHECK(at::equal(averaged[1], expected));
  CHECK(sums[0] == std::vector<double>{3.0, 20.0});
  CHECK(sums[1] == sums[0]);
  CHECK(at::equal(broadcast[1], at::full({4}, 100.0)));
}

TEST_CASE("an interface this host lacks, or a MASTER_ADDR that does not resolve, is named at once, before any waiting") {
  const auto start = std::chrono::steady_clock::now();
  CHECK_THROWS_WITH_AS(Communicator(DistributedEnv{0, 2, 0, "127.0.0.1", free_port(), {"lo", "nosuch0"}}, std::chrono::seconds(30)),
                       doctest::Contains("rank 0: environment variable GLOO_SOCKET_IFNAME names 'nosuch0', which this host "
                                         "does not have: this host's interfaces are lo"),
                       ConfigError);
  CHECK_THROWS_WITH_AS(Communicator(DistributedEnv{1, 2, 1, "no-such-host.invalid", free_port()}, std::chrono::seconds(30)),
                       doctest::Contains("rank 1: cannot resolve MASTER_ADDR=no-such-host.invalid: "), Error);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(25));  // neither waited out its timeout
}
