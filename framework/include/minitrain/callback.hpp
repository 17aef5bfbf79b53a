#pragma once
// A callback listens to the Trainer's events. It connects to the signals it
// needs (a batch writer never hears epoch ends) and keeps the returned
// scoped_connections, so it is disconnected when it dies.
#include "minitrain/events.hpp"

namespace minitrain {

class Callback {
 public:
  virtual ~Callback();
  virtual void connect(Events& events) = 0;
};

}  // namespace minitrain
