#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>

#include "index_dataset.hpp"
#include "minitrain/data/batch_prefetch.hpp"

using namespace minitrain;

namespace {

// Counts the batches built, and fails on one sample if asked.
class CountingDataset : public testing::IndexDataset {
 public:
  CountingDataset(std::int64_t n, std::int64_t failing = -1) : IndexDataset(n), failing_(failing) {}
  Batch get_batch(std::span<const std::int64_t> indices) const override {
    ++built;
    for (const std::int64_t index : indices)
      if (index == failing_) throw std::runtime_error("sample " + std::to_string(index) + " is unreadable");
    return IndexDataset::get_batch(indices);
  }
  mutable std::atomic<int> built{0};

 private:
  std::int64_t failing_;
};

bool becomes(const std::atomic<int>& value, int expected) {
  for (int i = 0; i < 2000 && value.load() != expected; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return value.load() == expected;
}

}  // namespace

TEST_CASE("prefetched batches are the loader's, in order, from any first batch and at any depth") {
  auto dataset = std::make_shared<CountingDataset>(23);
  DataLoader loader(dataset, DataLoaderOptions{.batch_size = 4});
  for (const std::int64_t depth : {0, 1, 3}) {
    for (const std::int64_t first : {0, 2}) {
      CAPTURE(depth);
      CAPTURE(first);
      BatchPrefetcher batches(loader, first, loader.num_batches(), depth);
      for (std::int64_t b = first; b < loader.num_batches(); ++b) CHECK(batches.next().indices == loader.batch(b).indices);
    }
  }
}

TEST_CASE("the prefetcher builds at most its depth ahead of the batch taken") {
  auto dataset = std::make_shared<CountingDataset>(40);
  DataLoader loader(dataset, DataLoaderOptions{.batch_size = 4});
  BatchPrefetcher batches(loader, 0, loader.num_batches(), 2);
  CHECK(becomes(dataset->built, 2));  // built ahead before any is taken
  CHECK(batches.next().indices.front() == 0);
  CHECK(becomes(dataset->built, 3));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(dataset->built.load() == 3);  // and no further until another is taken
}

TEST_CASE("an error building a batch comes out of next() for that batch, after those before it") {
  auto dataset = std::make_shared<CountingDataset>(20, 9);
  DataLoader loader(dataset, DataLoaderOptions{.batch_size = 4});
  BatchPrefetcher batches(loader, 0, loader.num_batches(), 3);
  CHECK(batches.next().indices.front() == 0);
  CHECK(batches.next().indices.front() == 4);
  CHECK_THROWS_WITH(batches.next(), "sample 9 is unreadable");
}

TEST_CASE("a prefetcher left with batches not taken stops without waiting for them") {
  auto dataset = std::make_shared<CountingDataset>(400);
  DataLoader loader(dataset, DataLoaderOptions{.batch_size = 4});
  {
    BatchPrefetcher batches(loader, 0, loader.num_batches(), 4);
    CHECK(batches.next().indices.front() == 0);
  }
  CHECK(dataset->built.load() <= 6);
}
