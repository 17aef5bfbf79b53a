#ifndef USE_C10D_GLOO  // Torch's CMake config sets it; the ProcessGroupGloo header is behind it
#define USE_C10D_GLOO
#endif
#include "minitrain/distributed/distributed.hpp"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <cstring>

#include "minitrain/base/error.hpp"
#include "minitrain/base/interrupt.hpp"
#include "minitrain/base/torch_compat.hpp"
#include "minitrain/distributed/liveness.hpp"
#include "minitrain/distributed/local_address.hpp"

namespace minitrain {

namespace {

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

std::string reason_of(const std::exception& e) {
  std::string reason = first_line(e.what());
  if (const auto* c10 = dynamic_cast<const c10::Error*>(&e)) reason = first_line(c10->what_without_backtrace());
  // Gloo's and c10's source locations ("[enforce fail at ./gloo/...cc:80] ", "[./gloo/...cc:81] ") mean nothing to a user.
  const std::size_t end = reason.find("] ");
  if (!reason.empty() && reason[0] == '[' && end != std::string::npos && reason.substr(0, end).find(".cc:") != std::string::npos)
    reason.erase(0, end + 2);
  return reason;
}

int integer_variable(const EnvLookup& lookup, const char* name, int fallback, int minimum) {
  const char* text = lookup(name);
  if (!text) return fallback;
  int value = 0;
  const std::string_view view(text);
  const auto [end, error] = std::from_chars(view.data(), view.data() + view.size(), value);
  if (view.empty() || error != std::errc() || end != view.data() + view.size() || value < minimum)
    throw ConfigError(fmt::format("environment variable {}='{}': expected an integer of at least {}", name, text, minimum));
  return value;
}

Error not_all_joined(const DistributedEnv& env, const std::string& where, std::int64_t seconds, const std::string& reason) {
  return Error(fmt::format("rank {}: the {} ranks did not all join the process group at {} within {} s ({}); check that "
                           "every rank was started, with the same MASTER_ADDR, MASTER_PORT and WORLD_SIZE",
                           env.rank, env.world_size, where, seconds, reason));
}

}  // namespace

DistributedEnv distributed_env_from(const EnvLookup& lookup) {
  DistributedEnv env;
  env.world_size = integer_variable(lookup, "WORLD_SIZE", 1, 1);
  env.rank = integer_variable(lookup, "RANK", 0, 0);
  env.local_rank = integer_variable(lookup, "LOCAL_RANK", env.rank, 0);
  if (env.rank >= env.world_size)
    throw ConfigError(fmt::format("environment variable RANK={} must be below WORLD_SIZE={}", env.rank, env.world_size));
  if (env.world_size > 1) {
    for (const char* name : {"MASTER_ADDR", "MASTER_PORT"}) {
      if (!lookup(name))
        throw ConfigError(fmt::format("WORLD_SIZE={} but {} is not set; every rank needs MASTER_ADDR (the host of rank 0) "
                                      "and MASTER_PORT, as torchrun sets them",
                                      env.world_size, name));
    }
  }
  if (const char* addr = lookup("MASTER_ADDR")) env.master_addr = addr;
  env.master_port = integer_variable(lookup, "MASTER_PORT", env.master_port, 1);
  if (env.master_port > 65535) throw ConfigError(fmt::format("environment variable MASTER_PORT={} is not a port", env.master_port));
  env.restart_count = integer_variable(lookup, "MINITRAIN_RESTART_COUNT", 0, 0);
  if (const char* names = lookup("GLOO_SOCKET_IFNAME")) {
    for (std::string_view rest = names; !rest.empty();) {
      const std::string_view name = rest.substr(0, rest.find(','));
      if (!name.empty()) env.socket_interfaces.emplace_back(name);
      rest.remove_prefix(std::min(rest.size(), name.size() + 1));
    }
  }
  return env;
}

DistributedEnv distributed_env() {
  return distributed_env_from([](const char* name) { return std::getenv(name); });
}

namespace {

// Gloo's sockets: on the interfaces GLOO_SOCKET_IFNAME names, else on the address this host reaches rank 0 from.
std::vector<std::shared_ptr<::gloo::transport::Device>> gloo_devices(const DistributedEnv& env) {
  std::vector<std::shared_ptr<::gloo::transport::Device>> devices;
  for (const std::string& name : env.socket_interfaces) {
    const std::vector<std::string> names = network_interface_names();
    const std::string problem = fmt::format("rank {}: environment variable GLOO_SOCKET_IFNAME names '{}'", env.rank, name);
    const std::string fix = fmt::format("this host's interfaces are {}; name the one that reaches the other ranks' hosts "
                                        "(`ip -brief address` lists them with their addresses)",
                                        fmt::join(names, ", "));
    if (std::find(names.begin(), names.end(), name) == names.end())
      throw ConfigError(fmt::format("{}, which this host does not have: {}", problem, fix));
    try {
      devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(name));
    } catch (const std::exception& e) {
      throw ConfigError(fmt::format("{}, which the collectives cannot use ({}): {}", problem, reason_of(e), fix));
    }
  }
  if (devices.empty()) {
    std::string address;
    try {
      address = local_address_towards(env.master_addr);
    } catch (const Error& e) {
      throw Error(fmt::format("rank {}: {}", env.rank, e.what()));
    }
    devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(address));
  }
  return devices;
}

}  // namespace

struct Communicator::Group {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> gloo;
};

Communicator::Communicator(const DistributedEnv& env, std::chrono::milliseconds timeout)
    : env_(env), timeout_(timeout), group_(std::make_unique<Group>()) {
  const std::string where = fmt::format("{}:{}", env.master_addr, env.master_port);
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(timeout).count();
  c10d::TCPStoreOptions options;
  options.port = static_cast<std::uint16_t>(env.master_port);
  options.isServer = env.rank == 0;
  options.numWorkers = env.world_size;
  options.waitWorkers = true;
  options.timeout = timeout;
  compat::use_plain_sockets(options);
  auto gloo_options = c10d::ProcessGroupGloo::Options::create(timeout);
  gloo_options->devices = gloo_devices(env);  // before the rendezvous: a wrong interface is found without waiting for the others
  try {
    group_->store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, options);
  } catch (const std::exception& e) {
    const std::string reason = reason_of(e);
    if (env.rank == 0 && reason.find("ddress already in use") != std::string::npos)
      throw Error(fmt::format("rank 0 cannot listen on {}: the port is already in use; pick another MASTER_PORT "
                              "(minitrain launch --master_port)",
                              where));
    if (env.rank == 0) throw not_all_joined(env, where, seconds, reason);  // LibTorch 2.x waits for them here
    throw Error(fmt::format("rank {}: could not meet rank 0 at {} within {} s ({}); check that rank 0 runs and "
                            "MASTER_ADDR/MASTER_PORT point at it",
                            env.rank, where, seconds, reason));
  }
  try {
    group_->gloo = c10::make_intrusive<c10d::ProcessGroupGloo>(group_->store, env.rank, env.world_size, gloo_options);
  } catch (const std::exception& e) {
    throw not_all_joined(env, where, seconds, reason_of(e));  // LibTorch 1.13 waits for them here
  }
  // Heartbeats often enough that a silent rank stands out well within the timeout.
  const auto period = std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(timeout / 10),
                                 std::chrono::milliseconds(100), std::chrono::milliseconds(1000));
  liveness_ = std::make_unique<Liveness>(env, period);
}

Communicator::~Communicator() = default;

namespace {
// Runs one collective to its end, turning c10d's failures into a message that says what was going on
// and, where the heartbeats show it, which rank was lost.
template <class Start>
void run_collective(int rank, const Liveness& liveness, const char* what, Start start) {
  try {
    start()->wait();
  } catch (const std::exception& e) {
    throw_if_interrupted();  // this rank was asked to stop too: a peer that stopped first is no failure
    const std::string lost = liveness.lost();
    throw Error(fmt::format("rank {}: {} failed: {} ({}{}; its own error says why)", rank, what, reason_of(e),
                            kAnotherRankStopped, lost.empty() ? "" : ": lost " + lost));
  }
}
}  // namespace

void Communicator::broadcast_from_rank0(const std::vector<at::Tensor>& tensors, const char* what) {
  for (const at::Tensor& tensor : tensors) {
    std::vector<at::Tensor> one{tensor};
    run_collective(env_.rank, *liveness_, what, [&] { return group_->gloo->broadcast(one); });
  }
}

void Communicator::average(const std::vector<at::Tensor>& tensors, std::size_t bucket_bytes) {
  std::size_t begin = 0;
  while (begin < tensors.size()) {
    std::size_t end = begin;
    std::size_t bytes = 0;
    while (end < tensors.size() && (end == begin || bytes + tensors[end].nbytes() <= bucket_bytes) &&
           tensors[end].scalar_type() == tensors[begin].scalar_type()) {
      bytes += tensors[end].nbytes();
      ++end;
    }
    std::vector<at::Tensor> flat_parts;
    for (std::size_t i = begin; i < end; ++i) flat_parts.push_back(tensors[i].reshape({-1}));
    std::vector<at::Tensor> bucket{at::cat(flat_parts)};
    run_collective(env_.rank, *liveness_, "averaging gradients", [&] { return group_->gloo->allreduce(bucket); });
    bucket[0].div_(env_.world_size);
    std::int64_t offset = 0;
    for (std::size_t i = begin; i < end; ++i) {
      const std::int64_t n = tensors[i].numel();
      tensors[i].copy_(bucket[0].narrow(0, offset, n).view(tensors[i].sizes()));
      offset += n;
    }
    begin = end;
  }
}

std::vector<double> Communicator::sum(const std::vector<double>& values) {
  std::vector<at::Tensor> one{at::tensor(values, at::kDouble)};
  run_collective(env_.rank, *liveness_, "summing metrics", [&] { return group_->gloo->allreduce(one); });
  const at::Tensor& out = one[0];
  return std::vector<double>(out.data_ptr<double>(), out.data_ptr<double>() + out.numel());
}

std::vector<std::string> Communicator::all_gather(const std::string& text, const char* what) {
  // Lengths first, then every text padded to the longest (Gloo gathers equal sizes).
  std::vector<at::Tensor> length{at::tensor(std::vector<std::int64_t>{static_cast<std::int64_t>(text.size())}, at::kLong)};
  std::vector<std::vector<at::Tensor>> lengths(1);
  for (int r = 0; r < env_.world_size; ++r) lengths[0].push_back(at::empty({1}, at::kLong));
  run_collective(env_.rank, *liveness_, what, [&] { return group_->gloo->allgather(lengths, length); });
  std::int64_t longest = 1;
  for (const at::Tensor& l : lengths[0]) longest = std::max(longest, l.item<std::int64_t>());
  std::vector<at::Tensor> mine{at::zeros({longest}, at::kByte)};
  std::memcpy(mine[0].data_ptr(), text.data(), text.size());
  std::vector<std::vector<at::Tensor>> texts(1);
  for (int r = 0; r < env_.world_size; ++r) texts[0].push_back(at::empty({longest}, at::kByte));
  run_collective(env_.rank, *liveness_, what, [&] { return group_->gloo->allgather(texts, mine); });
  std::vector<std::string> out;
  for (int r = 0; r < env_.world_size; ++r)
    out.emplace_back(static_cast<const char*>(texts[0][static_cast<std::size_t>(r)].data_ptr()),
                     static_cast<std::size_t>(lengths[0][static_cast<std::size_t>(r)].item<std::int64_t>()));
  return out;
}

void Communicator::barrier() {
  run_collective(env_.rank, *liveness_, "waiting for every rank", [&] { return group_->gloo->barrier(); });
}

}  // namespace minitrain
