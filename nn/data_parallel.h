#ifndef MARL_NN_DATA_PARALLEL_H_
#define MARL_NN_DATA_PARALLEL_H_

// Data-parallel learners: N processes train replicas of the same networks
// on different data and average their gradients before every optimizer
// step, so the replicas stay identical. Built on LibTorch's c10d (Gloo over
// a TCPStore hosted by rank 0), set up from the variables PyTorch's
// launchers (torchrun, Slurm scripts) export: MASTER_ADDR, MASTER_PORT,
// WORLD_SIZE and RANK.
//
// Every collective here blocks until all ranks have made the same call:
// ranks must issue the same collectives in the same order (in particular,
// call ForeachAdam::step() the same number of times, from one thread). A
// rank that stops calling makes the others fail after the timeout, or as
// soon as its process exits; they never wait forever.
//
// Torch-free: the training loop includes this. The LibTorch side
// (AverageGradients) is in nn/data_parallel_torch.h.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace marl {
namespace nn {

struct DataParallelOptions {
  // The host of rank 0's store (a name or an address); a loopback address
  // keeps all of the group's traffic on loopback.
  std::string master_addr;
  int master_port = 0;  // [1, 65535]
  int world_size = 1;   // [1, 1024]
  int rank = 0;         // [0, world_size)
  // The store is already served at master_port (torchrun's agent hosts it
  // and says so with TORCHELASTIC_USE_AGENT_STORE=True): rank 0 joins it as
  // a client instead of serving it.
  bool store_hosted = false;
  // How long to wait for the store, for the other ranks to join, and for
  // each collective. [1, 604800]
  int timeout_seconds = 1800;
  // The network interface the collectives use (e.g. "eth0"); empty: the
  // address this host's name resolves to (loopback if master_addr is one).
  std::string network_interface;
};

class DataParallelGroup {
 public:
  // The largest payload BroadcastBytes accepts.
  static constexpr int64_t kMaxBroadcastBytes = int64_t{4} << 30;  // 4 GiB

  // Joins the group described by the environment: MASTER_ADDR, MASTER_PORT,
  // WORLD_SIZE, RANK (and GLOO_SOCKET_IFNAME, optional, as in PyTorch;
  // TORCHELASTIC_USE_AGENT_STORE=True, which torchrun sets: store_hosted).
  // WORLD_SIZE unset or 1 means a single process: returns nullptr, not a
  // group (RANK, if set, must then be 0). A missing or malformed variable
  // gives INVALID_ARGUMENT naming it; joining can fail as Create does.
  // `timeout_seconds` as DataParallelOptions'.
  static absl::StatusOr<std::unique_ptr<DataParallelGroup>> FromEnvironment(
      int timeout_seconds = 1800);

  // Joins the group: rank 0 hosts the store at master_port, every rank
  // connects to it and then to each other. Blocks until all world_size
  // ranks have joined. INVALID_ARGUMENT for options out of range;
  // DEADLINE_EXCEEDED or UNAVAILABLE (naming MASTER_ADDR:MASTER_PORT) when
  // the store or a peer cannot be reached within the timeout.
  static absl::StatusOr<std::unique_ptr<DataParallelGroup>> Create(
      const DataParallelOptions& options);

  // Leaves the group without waiting for the others: make a last
  // collective (Barrier) first if they may still be communicating.
  ~DataParallelGroup();
  DataParallelGroup(const DataParallelGroup&) = delete;
  DataParallelGroup& operator=(const DataParallelGroup&) = delete;

  int rank() const;
  int world_size() const;

  // Replaces *bytes on every rank with rank 0's *bytes (e.g. the initial
  // networks, so all replicas start equal). INVALID_ARGUMENT on every rank
  // if rank 0's bytes exceed kMaxBroadcastBytes.
  absl::Status BroadcastBytes(std::string* bytes);

  // Every rank's `value`, in rank order (e.g. digests of the replicas, to
  // check they are still the same).
  absl::StatusOr<std::vector<uint64_t>> AllGather(uint64_t value);

  // Returns once every rank has called it.
  absl::Status Barrier();

  // Replaces values[0, count) on every rank with their sum over the ranks.
  // Each rank receives the same bits.
  absl::Status AllReduceSum(float* values, int64_t count);

 private:
  struct Impl;
  explicit DataParallelGroup(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The process's group, as torch.distributed's default group: ForeachAdam
// averages gradients over it. The training loop installs its group for the
// run's duration and uninstalls it (nullptr) before destroying it; nullptr,
// the default, means a single process. Not owned. Installing a group also
// clears DataParallelStatus(), so each run starts afresh.
void SetDefaultDataParallelGroup(DataParallelGroup* group);
DataParallelGroup* DefaultDataParallelGroup();

// The first failure of a gradient average over the default group since it
// was installed (OK if none). An optimizer step cannot return a status: one
// whose average fails skips its update, records the failure here and makes
// every later step on this rank skip too (the group's collectives are out
// of step from then on). The training loop checks this after each learner
// call and ends the run on an error; the other ranks then fail too instead
// of updating on their own.
absl::Status DataParallelStatus();

}  // namespace nn
}  // namespace marl

#endif  // MARL_NN_DATA_PARALLEL_H_
