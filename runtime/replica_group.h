#ifndef MARL_RUNTIME_REPLICA_GROUP_H_
#define MARL_RUNTIME_REPLICA_GROUP_H_

// The processes of a data-parallel run as the training loop sees them: N
// ranks, each with its own environment copies, whose learners average
// their gradients at every update (nn/data_parallel.h implements it on
// LibTorch's c10d; the runtime has no LibTorch).

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace marl {

class ReplicaGroup {
 public:
  virtual ~ReplicaGroup() = default;
  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  // Rank 0's bytes to every rank.
  virtual absl::Status BroadcastBytes(std::string* bytes) = 0;
  // Every rank's value, in rank order.
  virtual absl::StatusOr<std::vector<uint64_t>> AllGather(uint64_t value) = 0;
  // OK, or the first failure of a gradient average inside a learner's
  // update (which cannot return it).
  virtual absl::Status status() const = 0;
};

// Makes the group of this process from the launcher's environment
// (MASTER_ADDR, MASTER_PORT, WORLD_SIZE, RANK); null when WORLD_SIZE is
// unset or 1. Joining, and each collective, fail after `timeout_seconds`.
// While the group lives, the learners' optimizers average over it.
using ReplicaGroupFactory =
    std::function<absl::StatusOr<std::unique_ptr<ReplicaGroup>>(
        int timeout_seconds)>;

// Set once, at static initialisation, by the library that implements it
// (linked into every agent whose learners use LibTorch optimizers).
bool RegisterReplicaGroupFactory(ReplicaGroupFactory factory);
// The registered factory, or an empty function in binaries without one.
const ReplicaGroupFactory& RegisteredReplicaGroupFactory();

}  // namespace marl

#endif  // MARL_RUNTIME_REPLICA_GROUP_H_
