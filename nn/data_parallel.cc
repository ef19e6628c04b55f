#include "nn/data_parallel.h"

#include <torch/csrc/distributed/c10d/exception.h>
#include <torch/torch.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <mutex>
#include <new>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "nn/data_parallel_torch.h"

namespace marl {
namespace nn {
namespace {

constexpr int kMaxWorldSize = 1024;
constexpr int kMaxTimeoutSeconds = 7 * 24 * 3600;

// A value from outside, safe to print: escaped and cut short.
std::string Quoted(absl::string_view text) {
  constexpr size_t kShown = 64;
  std::string out =
      absl::StrCat("\"", absl::CHexEscape(text.substr(0, kShown)), "\"");
  if (text.size() > kShown) absl::StrAppend(&out, "...");
  return out;
}

// A decimal integer in [min, max], digits only (no sign, no spaces), without
// ever overflowing.
absl::StatusOr<int> ParseBoundedInt(absl::string_view name,
                                    absl::string_view text, int min, int max,
                                    absl::string_view bound_note = "") {
  const auto bad = [&] {
    return absl::InvalidArgumentError(
        absl::StrCat(name, "=", Quoted(text), " is not an integer in [", min,
                     ", ", max, "]", bound_note));
  };
  if (text.empty()) return bad();
  int value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return bad();
    const int digit = c - '0';
    if (value > max / 10 || value * 10 > max - digit) return bad();
    value = value * 10 + digit;
  }
  if (value < min) return bad();
  return value;
}

absl::StatusOr<int> EnvInt(const char* name, int min, int max,
                           absl::string_view bound_note = "") {
  const char* text = std::getenv(name);
  if (text == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(name, " is not set"));
  }
  return ParseBoundedInt(name, text, min, max, bound_note);
}

// Host names, IPv4 and IPv6 addresses: nothing a shell or a log would
// mangle.
bool IsHostOrAddress(absl::string_view text) {
  if (text.empty() || text.size() > 255) return false;
  for (const char c : text) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) &&
        !absl::StrContains(".-_:[]%", c)) {
      return false;
    }
  }
  return true;
}

bool IsInterfaceName(absl::string_view text) {
  // Linux's IFNAMSIZ is 16, with the terminating NUL.
  if (text.empty() || text.size() > 15) return false;
  for (const char c : text) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) &&
        !absl::StrContains(".-_:@", c)) {
      return false;
    }
  }
  return true;
}

bool IsLoopback(absl::string_view host) {
  return host == "localhost" || absl::StartsWith(host, "127.") ||
         host == "::1" || host == "[::1]";
}

absl::Status ValidateOptions(const DataParallelOptions& options) {
  if (options.world_size < 1 || options.world_size > kMaxWorldSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("world_size ", options.world_size, " is not in [1, ",
                     kMaxWorldSize, "]"));
  }
  if (options.rank < 0 || options.rank >= options.world_size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "rank ", options.rank, " is not in [0, ", options.world_size, ")"));
  }
  if (options.master_port < 1 || options.master_port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "master_port ", options.master_port, " is not in [1, 65535]"));
  }
  if (!IsHostOrAddress(options.master_addr)) {
    return absl::InvalidArgumentError(
        absl::StrCat("master_addr ", Quoted(options.master_addr),
                     " is not a host name or address"));
  }
  if (options.timeout_seconds < 1 ||
      options.timeout_seconds > kMaxTimeoutSeconds) {
    return absl::InvalidArgumentError(
        absl::StrCat("timeout_seconds ", options.timeout_seconds,
                     " is not in [1, ", kMaxTimeoutSeconds, "]"));
  }
  if (!options.network_interface.empty() &&
      !IsInterfaceName(options.network_interface)) {
    return absl::InvalidArgumentError(
        absl::StrCat("network_interface ", Quoted(options.network_interface),
                     " is not an interface name"));
  }
  return absl::OkStatus();
}

// c10d reports failures as exceptions (c10::Error, c10d::TimeoutError,
// Gloo's IoException, ...); none may leave this file. Gloo reports its
// timeouts as IoExceptions saying "Timed out", hence the text match.
absl::Status FromMessage(absl::string_view context, absl::string_view message,
                         bool timeout) {
  constexpr size_t kShown = 2000;
  std::string text(message.substr(0, kShown));
  const std::string lower = absl::AsciiStrToLower(text);
  timeout = timeout || absl::StrContains(lower, "timed out") ||
            absl::StrContains(lower, "timeout");
  std::string full = absl::StrCat(context, ": ", text);
  return timeout ? absl::DeadlineExceededError(full)
                 : absl::UnavailableError(full);
}

template <typename F>
absl::Status Guarded(absl::string_view context, F&& f) {
  try {
    f();
    return absl::OkStatus();
  } catch (const c10d::TimeoutError& e) {
    return FromMessage(context, e.what(), /*timeout=*/true);
  } catch (const c10::Error& e) {
    // what() would add a C++ backtrace of LibTorch's frames.
    return FromMessage(context, e.what_without_backtrace(), false);
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError(
        absl::StrCat(context, ": out of memory"));
  } catch (const std::exception& e) {
    return FromMessage(context, e.what(), false);
  } catch (...) {
    return absl::UnknownError(absl::StrCat(context, ": unknown exception"));
  }
}

std::atomic<DataParallelGroup*> default_group{nullptr};

std::mutex& StatusMutex() {
  static auto* mutex = new std::mutex;
  return *mutex;
}

absl::Status& StatusSlot() {  // guarded by StatusMutex()
  static auto* status = new absl::Status;
  return *status;
}

}  // namespace

struct DataParallelGroup::Impl {
  DataParallelOptions options;
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> process_group;
  // One collective at a time: c10d matches the ranks' calls by order.
  std::mutex mutex;
  // After a failed collective the ranks' calls no longer pair up: every
  // later one fails with the first failure.
  absl::Status broken;

  std::string Context(absl::string_view what) const {
    return absl::StrCat("data-parallel ", what, " (rank ", options.rank, " of ",
                        options.world_size, ", store at ", options.master_addr,
                        ":", options.master_port, ")");
  }

  // Runs one collective: `start` issues it, then this waits for it.
  template <typename F>
  absl::Status Collective(absl::string_view what, F&& start) {
    if (!broken.ok()) return broken;
    absl::Status status = Guarded(Context(what), [&] {
      c10::intrusive_ptr<c10d::Work> work = start();
      work->wait();
    });
    if (!status.ok()) broken = status;
    return status;
  }
};

DataParallelGroup::DataParallelGroup(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}

DataParallelGroup::~DataParallelGroup() = default;

absl::StatusOr<std::unique_ptr<DataParallelGroup>>
DataParallelGroup::FromEnvironment(int timeout_seconds) {
  if (std::getenv("WORLD_SIZE") == nullptr) return nullptr;
  absl::StatusOr<int> world_size = EnvInt("WORLD_SIZE", 1, kMaxWorldSize);
  if (!world_size.ok()) return world_size.status();
  if (*world_size == 1) {
    // A single process, though RANK, if a launcher set it, must agree.
    if (std::getenv("RANK") != nullptr) {
      absl::StatusOr<int> rank = EnvInt("RANK", 0, 0, " (WORLD_SIZE=1)");
      if (!rank.ok()) return rank.status();
    }
    return nullptr;
  }
  DataParallelOptions options;
  options.timeout_seconds = timeout_seconds;
  options.world_size = *world_size;
  absl::StatusOr<int> rank =
      EnvInt("RANK", 0, *world_size - 1,
             absl::StrCat(" (WORLD_SIZE=", *world_size, ")"));
  if (!rank.ok()) return rank.status();
  options.rank = *rank;
  const char* addr = std::getenv("MASTER_ADDR");
  if (addr == nullptr) {
    return absl::InvalidArgumentError("MASTER_ADDR is not set");
  }
  if (!IsHostOrAddress(addr)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "MASTER_ADDR=", Quoted(addr), " is not a host name or address"));
  }
  options.master_addr = addr;
  absl::StatusOr<int> port = EnvInt("MASTER_PORT", 1, 65535);
  if (!port.ok()) return port.status();
  options.master_port = *port;
  if (const char* hosted = std::getenv("TORCHELASTIC_USE_AGENT_STORE")) {
    options.store_hosted = absl::string_view(hosted) == "True";
  }
  if (const char* interface = std::getenv("GLOO_SOCKET_IFNAME")) {
    if (!IsInterfaceName(interface)) {
      return absl::InvalidArgumentError(
          absl::StrCat("GLOO_SOCKET_IFNAME=", Quoted(interface),
                       " is not one interface name"));
    }
    options.network_interface = interface;
  }
  return Create(options);
}

absl::StatusOr<std::unique_ptr<DataParallelGroup>> DataParallelGroup::Create(
    const DataParallelOptions& options) {
  if (absl::Status status = ValidateOptions(options); !status.ok()) {
    return status;
  }
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  const std::chrono::milliseconds timeout(int64_t{options.timeout_seconds} *
                                          1000);
  const std::string address =
      absl::StrCat(options.master_addr, ":", options.master_port);
  absl::Status status = Guarded(
      absl::StrCat("rank ", options.rank, " of ", options.world_size,
                   options.rank == 0 ? " could not host" : " could not reach",
                   " the store at MASTER_ADDR:MASTER_PORT = ", address,
                   " within ", options.timeout_seconds, " s"),
      [&] {
        c10d::TCPStoreOptions store_options;
        store_options.port = static_cast<uint16_t>(options.master_port);
        store_options.isServer = options.rank == 0 && !options.store_hosted;
        store_options.numWorkers = options.world_size;
        // The ranks meet in ProcessGroupGloo's rendezvous next; waiting for
        // them here too would double the time a missing rank costs.
        store_options.waitWorkers = false;
        store_options.timeout = timeout;
        impl->store = c10::make_intrusive<c10d::TCPStore>(options.master_addr,
                                                          store_options);
      });
  if (!status.ok()) return status;
  status = Guarded(
      absl::StrCat("rank ", options.rank, " of ", options.world_size,
                   " could not connect to the other ranks (store at "
                   "MASTER_ADDR:MASTER_PORT = ",
                   address, ") within ", options.timeout_seconds, " s"),
      [&] {
        auto pg_options = c10d::ProcessGroupGloo::Options::create(timeout);
        // Where the ranks' connections bind: loopback when the whole group
        // is on this host (the host name may not resolve in a container).
        if (!options.network_interface.empty()) {
          pg_options->devices.push_back(
              c10d::ProcessGroupGloo::createDeviceForInterface(
                  options.network_interface));
        } else if (IsLoopback(options.master_addr)) {
          pg_options->devices.push_back(
              c10d::ProcessGroupGloo::createDeviceForHostname(
                  options.master_addr));
        } else {
          pg_options->devices.push_back(
              c10d::ProcessGroupGloo::createDefaultDevice());
        }
        // Collectives are issued and awaited one at a time.
        pg_options->threads = 1;
        impl->process_group = c10::make_intrusive<c10d::ProcessGroupGloo>(
            impl->store, options.rank, options.world_size, pg_options);
      });
  if (!status.ok()) return status;
  return std::unique_ptr<DataParallelGroup>(
      new DataParallelGroup(std::move(impl)));
}

int DataParallelGroup::rank() const { return impl_->options.rank; }

int DataParallelGroup::world_size() const { return impl_->options.world_size; }

absl::Status DataParallelGroup::BroadcastBytes(std::string* bytes) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  const bool root = impl_->options.rank == 0;
  // Rank 0 sends -1 for bytes it refuses, so every rank fails alike rather
  // than waiting for a payload that never comes.
  int64_t size = 0;
  if (root) {
    size = bytes->size() <= static_cast<uint64_t>(kMaxBroadcastBytes)
               ? static_cast<int64_t>(bytes->size())
               : -1;
  }
  torch::Tensor size_tensor = torch::full({1}, size, torch::kInt64);
  absl::Status status = impl_->Collective("broadcast of the size", [&] {
    std::vector<at::Tensor> tensors = {size_tensor};
    return impl_->process_group->broadcast(tensors);
  });
  if (!status.ok()) return status;
  size = size_tensor.item<int64_t>();
  if (size == -1) {
    return absl::InvalidArgumentError(absl::StrCat(
        impl_->Context("broadcast"), ": rank 0's bytes exceed the limit of ",
        kMaxBroadcastBytes, " bytes"));
  }
  if (size < 0 || size > kMaxBroadcastBytes) {
    impl_->broken = absl::DataLossError(
        absl::StrCat(impl_->Context("broadcast"), ": received size ", size));
    return impl_->broken;
  }
  if (size == 0) {  // every rank knows: nothing more to send
    bytes->clear();
    return absl::OkStatus();
  }
  return impl_->Collective("broadcast of the bytes", [&] {
    if (!root) bytes->resize(static_cast<size_t>(size));
    std::vector<at::Tensor> tensors = {
        torch::from_blob(bytes->data(), {size}, torch::kUInt8)};
    return impl_->process_group->broadcast(tensors);
  });
}

absl::StatusOr<std::vector<uint64_t>> DataParallelGroup::AllGather(
    uint64_t value) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  const int n = impl_->options.world_size;
  int64_t signed_value;  // the same bits: c10d has no uint64 tensors
  std::memcpy(&signed_value, &value, sizeof(value));
  std::vector<at::Tensor> outputs;
  absl::Status status = impl_->Collective("all-gather", [&] {
    std::vector<at::Tensor> inputs = {
        torch::full({1}, signed_value, torch::kInt64)};
    std::vector<std::vector<at::Tensor>> output_lists(1);
    for (int r = 0; r < n; ++r) {
      output_lists[0].push_back(torch::empty({1}, torch::kInt64));
    }
    outputs = output_lists[0];
    return impl_->process_group->allgather(output_lists, inputs);
  });
  if (!status.ok()) return status;
  std::vector<uint64_t> values(n);
  for (int r = 0; r < n; ++r) {
    const int64_t v = outputs[r].item<int64_t>();
    std::memcpy(&values[r], &v, sizeof(v));
  }
  return values;
}

absl::Status DataParallelGroup::Barrier() {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->Collective("barrier",
                           [&] { return impl_->process_group->barrier(); });
}

absl::Status DataParallelGroup::AllReduceSum(float* values, int64_t count) {
  if (count < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("AllReduceSum of ", count, " values"));
  }
  if (count == 0) return absl::OkStatus();  // the same on every rank
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->Collective("all-reduce", [&] {
    std::vector<at::Tensor> tensors = {
        torch::from_blob(values, {count}, torch::kFloat)};
    return impl_->process_group->allreduce(tensors);
  });
}

void SetDefaultDataParallelGroup(DataParallelGroup* group) {
  if (group != nullptr) {
    std::lock_guard<std::mutex> lock(StatusMutex());
    StatusSlot() = absl::OkStatus();
  }
  default_group.store(group);
}

DataParallelGroup* DefaultDataParallelGroup() { return default_group.load(); }

absl::Status DataParallelStatus() {
  std::lock_guard<std::mutex> lock(StatusMutex());
  return StatusSlot();
}

absl::Status AverageGradients(DataParallelGroup& group,
                              const std::vector<torch::Tensor>& params) {
  if (group.world_size() == 1) return absl::OkStatus();
  // Checked before any communication, so every rank (with the same
  // parameters) gives up alike.
  int64_t total = 0;
  for (size_t i = 0; i < params.size(); ++i) {
    const torch::Tensor& p = params[i];
    const torch::Tensor& grad = p.grad();
    const bool ok =
        p.defined() && p.is_floating_point() && p.device().is_cpu() &&
        (!grad.defined() || (!grad.is_sparse() && grad.device().is_cpu() &&
                             grad.is_floating_point()));
    if (!ok) {
      return absl::InvalidArgumentError(absl::StrCat(
          "data-parallel gradient average: parameter ", i,
          " or its gradient is not a dense floating-point CPU tensor"));
    }
    total += p.numel();
  }
  if (total == 0) return absl::OkStatus();
  torch::NoGradGuard no_grad;
  torch::Tensor flat = torch::empty({total}, torch::kFloat);
  int64_t offset = 0;
  for (const torch::Tensor& p : params) {
    torch::Tensor slice = flat.narrow(0, offset, p.numel());
    if (p.grad().defined()) {
      slice.copy_(p.grad().reshape({-1}));
    } else {
      slice.zero_();
    }
    offset += p.numel();
  }
  if (absl::Status status = group.AllReduceSum(flat.data_ptr<float>(), total);
      !status.ok()) {
    return status;
  }
  flat.div_(group.world_size());
  offset = 0;
  for (const torch::Tensor& p : params) {
    torch::Tensor mean = flat.narrow(0, offset, p.numel()).view(p.sizes());
    if (p.grad().defined()) {
      p.mutable_grad().copy_(mean);
    } else {
      p.mutable_grad() =
          torch::empty_like(p, torch::MemoryFormat::Preserve).copy_(mean);
    }
    offset += p.numel();
  }
  return absl::OkStatus();
}

bool AverageGradientsOverDefaultGroup(
    const std::vector<torch::Tensor>& params) {
  DataParallelGroup* group = DefaultDataParallelGroup();
  if (group == nullptr || group->world_size() == 1) return true;
  if (!DataParallelStatus().ok()) return false;
  absl::Status status = AverageGradients(*group, params);
  if (status.ok()) return true;
  std::lock_guard<std::mutex> lock(StatusMutex());
  if (StatusSlot().ok()) StatusSlot() = status;
  return false;
}

}  // namespace nn
}  // namespace marl
