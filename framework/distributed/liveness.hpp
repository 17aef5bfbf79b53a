#pragma once
// Which ranks are still there. Each rank bumps a counter of its own in the
// rendezvous store every `period` and reads the others'; a rank whose counter
// stops moving has stopped, or its host has dropped off the network. When a
// collective fails, this names the rank lost instead of guessing.
#include <chrono>
#include <memory>
#include <string>

#include "minitrain/distributed/distributed.hpp"

namespace minitrain {

class Liveness {
 public:
  Liveness(const DistributedEnv& env, std::chrono::milliseconds period);
  // Stops watching. Waits for the thread at most one period, and not at all once rank 0's
  // store has stopped answering: a store call to a host that has dropped off may never
  // return, so that thread is left to end on its own, holding only its own state.
  ~Liveness();
  Liveness(const Liveness&) = delete;
  Liveness& operator=(const Liveness&) = delete;

  // "rank 1, not heard from for 4.2 s" for every rank silent for over 3 periods, or, when
  // the store itself has gone quiet, that this host lost rank 0's; empty when all are heard.
  std::string lost() const;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace minitrain
