#include "minitrain/distributed/liveness.hpp"

#include <fmt/format.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "minitrain/base/torch_compat.hpp"

namespace minitrain {

namespace {

std::string key_of(int rank) { return std::to_string(rank); }  // under the prefix minitrain/alive

double seconds(std::chrono::steady_clock::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

struct Liveness::State {
  using Clock = std::chrono::steady_clock;
  State(const DistributedEnv& env, std::chrono::milliseconds period)
      : env(env), period(period), last_heard(static_cast<std::size_t>(env.world_size), Clock::now()),
        last_value(static_cast<std::size_t>(env.world_size)), store_answered(Clock::now()) {}
  const DistributedEnv env;
  const std::chrono::milliseconds period;
  std::mutex mutex;
  std::condition_variable wake;
  bool stopping = false;
  bool finished = false;  // the watching thread is done with its store
  std::vector<Clock::time_point> last_heard;  // by rank: when its counter last moved
  std::vector<std::string> last_value;
  Clock::time_point store_answered;
};

namespace {

// The heartbeats' own connection to rank 0's store. Calls go through a PrefixStore: TCPStore
// releases its lock by a tail call, which would return into this file and read to
// ThreadSanitizer as an unlock of a mutex it never saw taken (LibTorch is not instrumented).
c10::intrusive_ptr<c10d::Store> connect(const DistributedEnv& env, std::chrono::milliseconds period) {
  c10d::TCPStoreOptions options;
  options.port = static_cast<std::uint16_t>(env.master_port);
  options.isServer = false;
  options.waitWorkers = false;
  // c10d counts this timeout in whole seconds: under one, it gives up at once.
  options.timeout = std::max<std::chrono::milliseconds>(3 * period, std::chrono::seconds(2));
  compat::use_plain_sockets(options);
  return c10::make_intrusive<c10d::PrefixStore>("minitrain/alive",
                                                c10::make_intrusive<c10d::TCPStore>(env.master_addr, options));
}

// One heartbeat: this rank's counter up, and every other rank's counter as the store has it ("" if none yet).
std::vector<std::string> beat_and_read(c10::intrusive_ptr<c10d::Store>& store, const DistributedEnv& env,
                                       std::chrono::milliseconds period, std::uint64_t beat) {
  try {
    if (!store) store = connect(env, period);
    const std::string value = std::to_string(beat);
    store->set(key_of(env.rank), std::vector<std::uint8_t>(value.begin(), value.end()));
    std::vector<std::string> values(static_cast<std::size_t>(env.world_size));
    for (int rank = 0; rank < env.world_size; ++rank) {
      if (rank == env.rank || !store->check({key_of(rank)})) continue;
      const std::vector<std::uint8_t> bytes = store->get(key_of(rank));
      values[static_cast<std::size_t>(rank)].assign(bytes.begin(), bytes.end());
    }
    return values;
  } catch (...) {
    store.reset();
    throw;
  }
}

void watch(const std::shared_ptr<Liveness::State>& state) {
  using Clock = Liveness::State::Clock;
  c10::intrusive_ptr<c10d::Store> store;  // a connection of its own: the collectives' is never shared
  std::uint64_t beat = 0;
  std::unique_lock lock(state->mutex);
  while (!state->stopping) {
    lock.unlock();
    std::vector<std::string> values;
    try {
      values = beat_and_read(store, state->env, state->period, ++beat);
    } catch (const std::exception&) {
      // Rank 0's host stopped answering: the run is ending, and retrying would only fill the log with
      // c10d's connection warnings. The silence itself is what lost() reports.
      lock.lock();
      break;
    }
    lock.lock();
    const Clock::time_point now = Clock::now();
    state->store_answered = now;
    for (std::size_t rank = 0; rank < values.size(); ++rank) {
      if (values[rank].empty() || values[rank] == state->last_value[rank]) continue;
      state->last_value[rank] = values[rank];
      state->last_heard[rank] = now;
    }
    state->wake.wait_for(lock, state->period, [&] { return state->stopping; });
  }
  lock.unlock();
  store.reset();
  lock.lock();
  state->finished = true;
  state->wake.notify_all();
}

}  // namespace

Liveness::Liveness(const DistributedEnv& env, std::chrono::milliseconds period)
    : state_(std::make_shared<State>(env, period)) {
  std::thread([state = state_] { watch(state); }).detach();
}

Liveness::~Liveness() {
  std::unique_lock lock(state_->mutex);
  state_->stopping = true;
  state_->wake.notify_all();
  // Normally the thread ends at once; one stuck on a host that dropped off is left behind at once.
  if (State::Clock::now() - state_->store_answered <= 3 * state_->period)
    state_->wake.wait_for(lock, state_->period, [&] { return state_->finished; });
}

std::string Liveness::lost() const {
  using Clock = State::Clock;
  const State& state = *state_;
  std::lock_guard lock(state_->mutex);
  const Clock::time_point now = Clock::now();
  const auto quiet = 3 * state.period;
  if (state.env.rank != 0 && now - state.store_answered > quiet)
    return fmt::format("rank 0, whose host has not answered for {:.1f} s (this host may be cut off from it)",
                       seconds(now - state.store_answered));
  std::string lost;
  for (int rank = 0; rank < state.env.world_size; ++rank) {
    const auto silent = now - state.last_heard[static_cast<std::size_t>(rank)];
    if (rank == state.env.rank || silent <= quiet) continue;
    lost += fmt::format("{}rank {}, not heard from for {:.1f} s", lost.empty() ? "" : "; ", rank, seconds(silent));
  }
  return lost;
}

}  // namespace minitrain
