#include "async_writer.hpp"

#include <fmt/format.h>
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <utility>

#include "minitrain/base/log.hpp"

namespace minitrain {

namespace {
// glibc keeps chunks freed in the middle of a fragmented heap. Predictions are
// allocated by the loop's thread and freed here, between small allocations
// that live on (an epoch's file offsets, say), and without this their memory
// piles up with the number of batches. Trimming hands the free pages back.
void release_free_heap(std::size_t keep_bytes) {
  if (::mallinfo2().fordblks > keep_bytes) ::malloc_trim(0);
}
constexpr std::size_t kFreeHeapKept = 16 << 20;
}  // namespace

AsyncWriter::AsyncWriter(std::size_t max_pending_bytes)
    : max_pending_bytes_(max_pending_bytes), thread_([this] { run(); }) {}

AsyncWriter::~AsyncWriter() {
  {
    std::unique_lock lock(mutex_);
    space_or_idle_.wait(lock, [this] { return queue_.empty() && !running_task_; });
    stopping_ = true;
  }
  work_ready_.notify_one();
  thread_.join();
  if (error_) {
    try {
      std::rethrow_exception(error_);
    } catch (const std::exception& e) {
      log::warn(fmt::format("a background write failed and was not reported before shutdown: {}", e.what()));
    }
  }
}

template <class Ready>
void AsyncWriter::wait_until(std::unique_lock<std::mutex>& lock, Ready ready) {
  const auto start = std::chrono::steady_clock::now();
  space_or_idle_.wait(lock, ready);
  waited_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void AsyncWriter::submit(std::function<void()> task, std::size_t bytes) {
  {
    std::unique_lock lock(mutex_);
    wait_until(lock, [&] { return error_ || pending_bytes_ == 0 || pending_bytes_ + bytes <= max_pending_bytes_; });
    if (error_) {
      std::exception_ptr error = std::exchange(error_, nullptr);
      std::rethrow_exception(error);
    }
    queue_.emplace_back(std::move(task), bytes);
    pending_bytes_ += bytes;
    peak_pending_bytes_ = std::max(peak_pending_bytes_, pending_bytes_);
  }
  work_ready_.notify_one();
}

void AsyncWriter::check() {
  std::lock_guard lock(mutex_);
  if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
}

void AsyncWriter::drain() {
  {
    std::unique_lock lock(mutex_);
    wait_until(lock, [this] { return queue_.empty() && !running_task_; });
  }
  check();
}

std::size_t AsyncWriter::pending_bytes() const {
  std::lock_guard lock(mutex_);
  return pending_bytes_;
}

double AsyncWriter::waited_seconds() const {
  std::lock_guard lock(mutex_);
  return waited_seconds_;
}

std::size_t AsyncWriter::peak_pending_bytes() const {
  std::lock_guard lock(mutex_);
  return peak_pending_bytes_;
}

void AsyncWriter::run() {
  std::unique_lock lock(mutex_);
  while (true) {
    work_ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, nothing left
    auto [task, bytes] = std::move(queue_.front());
    queue_.pop_front();
    running_task_ = true;
    const bool skip = static_cast<bool>(error_);
    lock.unlock();
    std::exception_ptr failure;
    if (!skip) {
      try {
        task();
      } catch (...) {
        failure = std::current_exception();
      }
    }
    task = nullptr;  // release the task's memory before it is counted as free
    lock.lock();
    if (failure && !error_) error_ = failure;
    if (error_) {
      // Work queued after a failure is dropped: the run is going to stop.
      for (const auto& queued : queue_) pending_bytes_ -= queued.second;
      queue_.clear();
    }
    if (bytes > 0) {
      lock.unlock();
      release_free_heap(std::max(kFreeHeapKept, max_pending_bytes_));
      lock.lock();
    }
    pending_bytes_ -= bytes;
    running_task_ = false;
    space_or_idle_.notify_all();
  }
}

}  // namespace minitrain
