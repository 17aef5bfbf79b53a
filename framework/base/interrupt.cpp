#include "minitrain/base/interrupt.hpp"

#include <fmt/format.h>
#include <signal.h>
#include <string.h>

#include <atomic>

namespace minitrain {

namespace {

std::atomic<int> pending_signal{0};

void on_signal(int signal) {
  pending_signal.store(signal);
  ::signal(signal, SIG_DFL);  // the next one of the same kind is not caught
}

}  // namespace

Interrupted::Interrupted(int signal)
    : Error(fmt::format("interrupted by {} (signal {})", signal == SIGINT ? "SIGINT" : signal == SIGTERM ? "SIGTERM" : ::strsignal(signal),
                        signal)),
      signal_(signal) {}

Interrupted::~Interrupted() = default;

void install_interrupt_handlers() {
  struct sigaction action {};
  action.sa_handler = on_signal;
  ::sigemptyset(&action.sa_mask);
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
}

void throw_if_interrupted() {
  if (const int signal = pending_signal.load()) throw Interrupted(signal);
}

}  // namespace minitrain
