#pragma once
// A callback listens to the Trainer's events. Its connect() subscribes to the
// signals it needs (a batch writer never hears epoch ends), one line each:
//   void connect(Events& events) override {
//     on(events.predict_batch_end, &MyWriter::on_batch_end);
//     on(events.fit_end, [this](const FitEnd& e) { ... });
//   }
// The subscriptions end when the callback dies.
#include <ATen/core/ivalue.h>
#include <boost/signals2/connection.hpp>

#include <utility>
#include <vector>

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

 protected:
  // Calls this callback's member function on every `signal`, while it lives.
  template <class Payload, class Self>
  void on(Signal<Payload>& signal, void (Self::*handler)(const Payload&)) {
    Self* self = static_cast<Self*>(this);
    connections_.emplace_back(signal.connect([self, handler](const Payload& event) { (self->*handler)(event); }));
  }
  // Calls `handler` (a lambda capturing this) on every `signal`, while this callback lives.
  template <class Payload, class Handler>
  void on(Signal<Payload>& signal, Handler handler) {
    connections_.emplace_back(signal.connect(std::move(handler)));
  }

 private:
  std::vector<boost::signals2::scoped_connection> connections_;
};

}  // namespace minitrain
