#pragma once
// A writer thread fed by a bounded queue. The training loop hands it work
// (serialize and write a file) and goes on; when the work waiting holds more
// than `max_pending_bytes`, submit() waits (backpressure) rather than letting
// memory grow. The first error a task raises is kept and rethrown in the
// loop's thread by check() or drain(); tasks queued after it are dropped.
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>

namespace minitrain {

class AsyncWriter {
 public:
  explicit AsyncWriter(std::size_t max_pending_bytes);
  // Waits for the queued work; an error that nobody checked is logged, not lost silently.
  ~AsyncWriter();
  AsyncWriter(const AsyncWriter&) = delete;
  AsyncWriter& operator=(const AsyncWriter&) = delete;

  // Queues `task`, which keeps `bytes` of memory alive until it has run. A
  // task bigger than the whole limit is accepted once the queue is empty.
  void submit(std::function<void()> task, std::size_t bytes);
  // Rethrows the first error a task raised (once).
  void check();
  // Waits until every queued task has run, then check().
  void drain();

  std::size_t pending_bytes() const;
  std::size_t peak_pending_bytes() const;  // the most ever waiting or being written at once
  double waited_seconds() const;           // how long submit() and drain() have waited in all

 private:
  void run();
  // The loop's thread waits on space_or_idle_ until `ready`, the time counted in waited_seconds_.
  template <class Ready>
  void wait_until(std::unique_lock<std::mutex>& lock, Ready ready);

  const std::size_t max_pending_bytes_;
  mutable std::mutex mutex_;
  std::condition_variable work_ready_;
  std::condition_variable space_or_idle_;
  std::deque<std::pair<std::function<void()>, std::size_t>> queue_;
  std::size_t pending_bytes_ = 0;  // queued plus the task running
  std::size_t peak_pending_bytes_ = 0;
  double waited_seconds_ = 0;
  bool running_task_ = false;
  bool stopping_ = false;
  std::exception_ptr error_;
  std::thread thread_;
};

}  // namespace minitrain
