#include <atomic>
#include <chrono>
#include <future>
#include <numeric>
#include <stdexcept>
#include <thread>

#include "async_writer.hpp"

#include <doctest/doctest.h>

using minitrain::AsyncWriter;

TEST_CASE("tasks run in order on the writer thread; drain waits for all of them") {
  AsyncWriter writer(1000);
  std::vector<int> order;
  const auto caller = std::this_thread::get_id();
  std::atomic<bool> off_thread = true;
  for (int i = 0; i < 20; ++i)
    writer.submit([&, i] {
      if (std::this_thread::get_id() == caller) off_thread = false;
      order.push_back(i);
    }, 10);
  writer.drain();
  std::vector<int> expected(20);
  std::iota(expected.begin(), expected.end(), 0);
  CHECK(order == expected);
  CHECK(off_thread);
  CHECK(writer.pending_bytes() == 0);
}

TEST_CASE("backpressure: queued bytes never pass the limit, the caller waits instead") {
  AsyncWriter writer(100);
  for (int i = 0; i < 10; ++i)
    writer.submit([] { std::this_thread::sleep_for(std::chrono::milliseconds(5)); }, 40);
  writer.drain();
  CHECK(writer.peak_pending_bytes() == 80);  // two tasks of 40 fit, a third waits
  // The ten tasks sleep 50 ms in all, one at a time, and the caller waited for all of them but the first.
  CHECK(writer.waited_seconds() >= 0.045);
  SUBCASE("a task bigger than the limit still runs, alone") {
    writer.submit([] {}, 1000);
    writer.drain();
    CHECK(writer.peak_pending_bytes() == 1000);
  }
}

TEST_CASE("an error on the writer thread reaches the caller and is never swallowed") {
  AsyncWriter writer(1000);
  std::atomic<int> ran_after = 0;
  // The failing write waits until the second is queued: a submit after a failure reports it instead.
  std::promise<void> both_queued;
  writer.submit([queued = both_queued.get_future().share()] {
    queued.wait();
    throw std::runtime_error("disk full");
  }, 1);
  writer.submit([&] { ++ran_after; }, 1);
  both_queued.set_value();
  SUBCASE("at drain") { CHECK_THROWS_WITH(writer.drain(), "disk full"); }
  SUBCASE("at the next check or submit") {
    while (writer.pending_bytes() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    CHECK_THROWS_WITH(writer.check(), "disk full");
    CHECK_NOTHROW(writer.check());  // reported once
  }
  CHECK(ran_after == 0);  // work queued behind a failure is dropped
}
