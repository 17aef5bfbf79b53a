#pragma once
// Batches built ahead on a thread of their own, so that reading, tokenizing
// and gathering the next batches overlaps the model's work on the current
// one (PyTorch's DataLoader does it with worker processes and prefetch_factor).
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>

#include "minitrain/data/data.hpp"

namespace minitrain {

class BatchPrefetcher {
 public:
  // Builds loader.batch(i) for i in [first, end) in order, at most `depth`
  // batches ahead of the one last taken. depth 0 starts no thread: next()
  // builds each batch when asked. The loader must not change (set_epoch)
  // while this exists.
  BatchPrefetcher(const DataLoader& loader, std::int64_t first, std::int64_t end, std::int64_t depth);
  ~BatchPrefetcher();  // stops the thread; batches not taken are dropped
  BatchPrefetcher(const BatchPrefetcher&) = delete;
  BatchPrefetcher& operator=(const BatchPrefetcher&) = delete;

  // The next batch; an error building it is rethrown here, in order.
  Batch next();

 private:
  const DataLoader& loader_;
  std::int64_t next_;  // the next batch next() hands out
  const std::int64_t end_;
  const std::int64_t depth_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Batch> ready_;
  std::exception_ptr error_;  // the builder's, handed out after the batches built before it
  bool stop_ = false;
  std::thread builder_;
};

}  // namespace minitrain
