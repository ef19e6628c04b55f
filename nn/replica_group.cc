// Registers the c10d group as the training loop's ReplicaGroup: every agent
// whose learners use ForeachAdam links this, and so runs data-parallel
// under a launcher's WORLD_SIZE > 1.
#include "runtime/replica_group.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "nn/data_parallel.h"

namespace marl {
namespace nn {
namespace {

// Installed as the default group (ForeachAdam averages over it) while it
// lives.
class C10dReplicaGroup : public ReplicaGroup {
 public:
  explicit C10dReplicaGroup(std::unique_ptr<DataParallelGroup> group)
      : group_(std::move(group)) {
    SetDefaultDataParallelGroup(group_.get());
  }
  ~C10dReplicaGroup() override { SetDefaultDataParallelGroup(nullptr); }

  int rank() const override { return group_->rank(); }
  int world_size() const override { return group_->world_size(); }
  absl::Status BroadcastBytes(std::string* bytes) override {
    return group_->BroadcastBytes(bytes);
  }
  absl::StatusOr<std::vector<uint64_t>> AllGather(uint64_t value) override {
    return group_->AllGather(value);
  }
  absl::Status status() const override { return DataParallelStatus(); }

 private:
  std::unique_ptr<DataParallelGroup> group_;
};

absl::StatusOr<std::unique_ptr<ReplicaGroup>> FromEnvironment(
    int timeout_seconds) {
  absl::StatusOr<std::unique_ptr<DataParallelGroup>> group =
      DataParallelGroup::FromEnvironment(timeout_seconds);
  if (!group.ok()) return group.status();
  if (*group == nullptr) return std::unique_ptr<ReplicaGroup>();
  return std::unique_ptr<ReplicaGroup>(new C10dReplicaGroup(*std::move(group)));
}

const bool registered = RegisterReplicaGroupFactory(FromEnvironment);

}  // namespace
}  // namespace nn
}  // namespace marl
