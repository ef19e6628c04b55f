#include "runtime/replica_group.h"

#include <utility>

namespace marl {
namespace {

ReplicaGroupFactory& Factory() {
  static ReplicaGroupFactory* factory = new ReplicaGroupFactory();
  return *factory;
}

}  // namespace

bool RegisterReplicaGroupFactory(ReplicaGroupFactory factory) {
  Factory() = std::move(factory);
  return true;
}

const ReplicaGroupFactory& RegisteredReplicaGroupFactory() { return Factory(); }

}  // namespace marl
