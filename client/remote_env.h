#ifndef MARL_CLIENT_REMOTE_ENV_H_
#define MARL_CLIENT_REMOTE_ENV_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/env_client.h"
#include "envs/core/env_spec.h"
#include "protocol/proto/env_protocol.pb.h"

namespace marl {

// One handle's copies as a vector environment: the layer agents use. Owns
// the handle (closed on destruction) and reusable action buffers, so a step
// allocates nothing new once warm.
class RemoteEnv {
 public:
  // `settings` are "name" -> text, parsed against the types the server
  // declares for the environment (see ParseSettingsFlag).
  static absl::StatusOr<std::unique_ptr<RemoteEnv>> Make(
      EnvClient* client, const std::string& env_name,
      const std::map<std::string, std::string>& settings, int num_copies,
      uint64_t seed, bool auto_reset = true);
  ~RemoteEnv();

  const proto::EnvSpec& proto_spec() const { return proto_spec_; }
  // The same spec in the environment core's types (spaces with FlatSize...).
  const EnvSpec& spec() const { return spec_; }
  uint64_t handle() const { return handle_; }
  int num_copies() const { return proto_spec_.num_copies(); }
  int num_agents() const { return spec_.num_agents(); }

  // Resets every copy; `seeds` empty or one per copy.
  absl::StatusOr<const proto::TimeStep*> Reset(
      const std::vector<uint64_t>& seeds = {});

  // Per-agent action arrays for every copy (num_copies x action size),
  // sized by Make: fill them, then Step().
  std::vector<int64_t>& discrete_actions(int agent);
  std::vector<float>& continuous_actions(int agent);
  absl::StatusOr<const proto::TimeStep*> Step();
  // Step in two halves (EnvClient::StartStep): the actions are sent by
  // StartStep, so the arrays may be refilled before FinishStep.
  absl::Status StartStep();
  absl::StatusOr<const proto::TimeStep*> FinishStep();
  EnvClient* client() const { return client_; }

 private:
  RemoteEnv(EnvClient* client, uint64_t handle, proto::EnvSpec proto_spec);

  EnvClient* client_;
  uint64_t handle_;
  proto::EnvSpec proto_spec_;
  EnvSpec spec_;
  proto::StepRequest step_request_;
  std::vector<std::vector<int64_t>> discrete_;  // per agent
  std::vector<std::vector<float>> continuous_;  // per agent
};

// Parses a settings flag "a=1,game=pd,payoffs_row=[[0,3],[1,2]]" into
// name -> text (commas inside brackets belong to the value).
absl::StatusOr<std::map<std::string, std::string>> ParseSettingsFlag(
    const std::string& text);

}  // namespace marl

#endif  // MARL_CLIENT_REMOTE_ENV_H_
