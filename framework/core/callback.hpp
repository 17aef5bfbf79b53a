#pragma once
// A callback listens to the Trainer's events. It connects to the signals it
// needs (a batch writer never hears epoch ends) and keeps the returned
// scoped_connections, so it is disconnected when it dies.
#include <ATen/core/ivalue.h>

#include "minitrain/core/events.hpp"

namespace minitrain {

class Callback {
 public:
  virtual ~Callback();
  virtual void connect(Events& events) = 0;
  // What the callback must remember across a stop and a resume (counters, the
  // best score so far), as a value Python's torch.load can read: None when
  // there is nothing. Saved in every training checkpoint under its key.
  virtual c10::IValue state_dict() const;
  // Called with what state_dict returned, when a fit resumes from a checkpoint.
  virtual void load_state_dict(const c10::IValue& state);
};

}  // namespace minitrain
