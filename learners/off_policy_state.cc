#include "learners/off_policy_state.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "runtime/learner_state.h"

namespace marl {
namespace {

absl::Status Named(const std::string& learner, const absl::Status& s) {
  return absl::Status(s.code(), absl::StrCat(learner, ": ", s.message()));
}

}  // namespace

absl::StatusOr<std::string> SaveOffPolicyState(const OffPolicyState& state,
                                               bool with_replay) {
  LearnerStateWriter writer(state.learner, state.shape);
  if (absl::Status s = WriteTorchParts(state.torch, &writer); !s.ok()) {
    return Named(state.learner, s);
  }
  writer.Engine("rng", *state.rng).Ints("updates", {*state.updates});
  for (const auto& [name, engine] : state.engines) {
    writer.Engine("engine/" + name, *engine);
  }
  state.schedule->Save(&writer);
  if (with_replay && state.replay != nullptr)
    writer.Bytes("replay", state.replay->Serialize());
  return writer.Finish();
}

absl::Status LoadOffPolicyState(const std::string& bytes,
                                const OffPolicyState& state) {
  absl::StatusOr<LearnerStateReader> reader =
      LearnerStateReader::Open(bytes, state.learner, state.shape);
  if (!reader.ok()) {
    return absl::Status(reader.status().code(),
                        absl::StrCat(reader.status().message(), " (",
                                     state.shape_meaning, ")"));
  }
  std::vector<int64_t> updates;
  std::string replay;
  absl::Status s = ReadTorchParts(*reader, state.torch);
  if (s.ok()) s = reader->Engine("rng", state.rng);
  for (const auto& [name, engine] : state.engines) {
    if (s.ok()) s = reader->Engine("engine/" + name, engine);
  }
  if (s.ok()) s = reader->Ints("updates", 1, &updates);
  if (s.ok()) s = state.schedule->Load(*reader);
  if (s.ok() && state.replay != nullptr && reader->Has("replay")) {
    s = reader->Bytes("replay", &replay);
    if (s.ok()) s = state.replay->Restore(replay);
  }
  if (!s.ok()) return Named(state.learner, s);
  *state.updates = updates[0];
  return absl::OkStatus();
}

}  // namespace marl
