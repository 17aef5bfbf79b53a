#include "minitrain/data/batch_prefetch.hpp"

#include <utility>

namespace minitrain {

BatchPrefetcher::BatchPrefetcher(const DataLoader& loader, std::int64_t first, std::int64_t end, std::int64_t depth)
    : loader_(loader), next_(first), end_(end), depth_(depth) {
  if (depth_ > 0 && first < end) builder_ = std::thread([this, first] {
    for (std::int64_t batch_idx = first; batch_idx < end_; ++batch_idx) {
      {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [this] { return stop_ || static_cast<std::int64_t>(ready_.size()) < depth_; });
        if (stop_) return;
      }
      try {
        Batch batch = loader_.batch(batch_idx);
        std::lock_guard lock(mutex_);
        ready_.push_back(std::move(batch));
      } catch (...) {
        std::lock_guard lock(mutex_);
        error_ = std::current_exception();
        changed_.notify_all();
        return;
      }
      changed_.notify_all();
    }
  });
}

BatchPrefetcher::~BatchPrefetcher() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  if (builder_.joinable()) builder_.join();
}

Batch BatchPrefetcher::next() {
  if (!builder_.joinable()) return loader_.batch(next_++);
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [this] { return !ready_.empty() || error_; });
  if (ready_.empty()) std::rethrow_exception(error_);
  Batch batch = std::move(ready_.front());
  ready_.pop_front();
  ++next_;
  lock.unlock();
  changed_.notify_all();
  return batch;
}

}  // namespace minitrain
