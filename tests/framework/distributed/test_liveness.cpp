// Heartbeats in the rendezvous store: a rank that stops, or a store that
// goes away, is named by the ranks still there.
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <chrono>
#include <string>
#include <thread>

#include "minitrain/base/torch_compat.hpp"
#include "minitrain/distributed/liveness.hpp"

#include "doctest_torch.hpp"

using namespace minitrain;

namespace {

c10::intrusive_ptr<c10d::TCPStore> store_server() {
  c10d::TCPStoreOptions options;
  options.port = 0;  // any free port
  options.isServer = true;
  options.waitWorkers = false;
  options.timeout = std::chrono::seconds(10);
  compat::use_plain_sockets(options);
  return c10::make_intrusive<c10d::TCPStore>("127.0.0.1", options);
}

// What `liveness` says once it says anything, within 10 s.
std::string first_loss(const Liveness& liveness) {
  for (int i = 0; i < 100; ++i) {
    if (std::string lost = liveness.lost(); !lost.empty()) return lost;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return "";
}

}  // namespace

TEST_CASE("a rank whose heartbeats stop is named as lost; a store that goes away is named by the others") {
  auto server = store_server();
  const int port = server->getPort();
  const std::chrono::milliseconds period(200);
  Liveness rank0(DistributedEnv{0, 3, 0, "127.0.0.1", port}, period);
  auto rank1 = std::make_unique<Liveness>(DistributedEnv{1, 3, 1, "127.0.0.1", port}, period);
  Liveness rank2(DistributedEnv{2, 3, 2, "127.0.0.1", port}, period);
  std::this_thread::sleep_for(5 * period);  // every rank has been heard
  rank1.reset();                            // rank 1 stops
  const std::string lost = first_loss(rank0);
  CHECK(lost.rfind("rank 1, not heard from for ", 0) == 0);
  CHECK_MESSAGE(lost.find("rank 2") == std::string::npos, lost);
  const std::string lost_by_2 = first_loss(rank2);
  CHECK_MESSAGE(lost_by_2.rfind("rank 1, not heard from for ", 0) == 0, lost_by_2);

  server.reset();  // rank 0's host goes away
  std::string cut_off;
  for (int i = 0; i < 100 && cut_off.find("rank 0, whose host") == std::string::npos; ++i) {
    cut_off = rank2.lost();
    std::this_thread::sleep_for(period);
  }
  CHECK(cut_off.rfind("rank 0, whose host has not answered for ", 0) == 0);
}
