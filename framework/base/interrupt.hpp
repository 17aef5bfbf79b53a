#pragma once
// Ctrl-C and a scheduler's SIGTERM end a run cleanly: the Trainer stops at the
// next batch boundary by throwing Interrupted, the exception event lets
// callbacks finish what they were writing, and the CLI exits 128 + signal
// (130, 143). A second signal of the same kind kills the process at once.
#include "minitrain/base/error.hpp"

namespace minitrain {

class Interrupted : public Error {
 public:
  explicit Interrupted(int signal);
  ~Interrupted() override;
  int signal() const { return signal_; }

 private:
  int signal_;
};

// Catches SIGINT and SIGTERM from now on (the CLI calls it for fit, validate, predict).
void install_interrupt_handlers();

// Throws Interrupted if a caught signal is waiting; called between batches.
void throw_if_interrupted();

}  // namespace minitrain
