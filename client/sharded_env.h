#ifndef MARL_CLIENT_SHARDED_ENV_H_
#define MARL_CLIENT_SHARDED_ENV_H_

#include <cstdint>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/env_client.h"
#include "client/remote_env.h"
#include "envs/core/env_spec.h"
#include "protocol/proto/env_protocol.pb.h"

namespace marl {

struct ShardedEnvOptions {
  std::string env_name;
  std::map<std::string, std::string> settings;  // as for RemoteEnv::Make
  int num_copies = 1;
  uint64_t seed = 0;
  bool auto_reset = true;
  // A server that stops answering (a transport failure, not a refusal)
  // ends the run with an error naming it; with this, its copies are made
  // again on the next live server instead, and their episodes are cut
  // there: that step reports them truncated, with reward 0 and the last
  // observation as the final one.
  bool tolerate_server_loss = false;
  // Where a lost server is reported when tolerated (null: nowhere).
  std::ostream* log = nullptr;
};

// One vector environment of num_copies copies spread over several servers
// (one client each): the copies are split into contiguous blocks, one
// handle per server, and a step sends every server its block before waiting
// for any answer, so the servers step at once. Copy c plays exactly as copy
// c of a single handle made with the same seed (PROTOCOL.md, "Seeds"): the
// first reset seeds each copy with SeedForCopy(seed, c), so the results do
// not depend on how many servers there are. With one client it is a thin
// layer over one RemoteEnv (no copies of the arrays).
class ShardedEnv {
 public:
  // `clients` in order (at least one); all must serve the same
  // environment with the same spec. Servers beyond num_copies get no copy.
  static absl::StatusOr<std::unique_ptr<ShardedEnv>> Make(
      const std::vector<EnvClient*>& clients, const ShardedEnvOptions& options);
  ~ShardedEnv();

  // The whole environment's spec (num_copies = all copies).
  const proto::EnvSpec& proto_spec() const { return proto_spec_; }
  const EnvSpec& spec() const { return spec_; }
  int num_copies() const { return num_copies_; }
  int num_agents() const { return spec_.num_agents(); }
  // Servers holding copies now (fewer than at the start once a lost
  // server's copies moved).
  int num_live_servers() const;

  // As RemoteEnv's: `seeds` empty or one per copy.
  absl::StatusOr<const proto::TimeStep*> Reset(
      const std::vector<uint64_t>& seeds = {});
  std::vector<int64_t>& discrete_actions(int agent);
  std::vector<float>& continuous_actions(int agent);
  // The TimeStep stays valid until the next call on this environment or
  // on any of its clients.
  absl::StatusOr<const proto::TimeStep*> Step();
  // Step in two halves: StartStep sends every server its copies' actions
  // (the action arrays may be refilled once it returns), FinishStep
  // awaits and merges the answers. Work done in between overlaps with the
  // servers' stepping; nothing else may be called on this environment or
  // its clients meanwhile.
  absl::Status StartStep();
  absl::StatusOr<const proto::TimeStep*> FinishStep();

 private:
  struct Shard {
    int server = 0;  // index into clients_
    int offset = 0;  // its first copy
    int count = 0;
    std::unique_ptr<RemoteEnv> env;
  };

  class Merge;

  explicit ShardedEnv(std::vector<EnvClient*> clients,
                      ShardedEnvOptions options);
  absl::StatusOr<std::unique_ptr<RemoteEnv>> MakeOn(int server, int count,
                                                    uint64_t seed);
  // "environment server tcp://host:port (server 2 of 3, copies 8-15)".
  std::string Describe(const Shard& shard) const;
  // A failure of `shard`: an error naming its server, or (tolerated, the
  // server lost) its copies made again on another live server.
  absl::Status Failed(Shard& shard, const absl::Status& status);
  void StartShard(size_t k);
  // Resets a shard, moving it while its server is lost (tolerated).
  absl::StatusOr<const proto::TimeStep*> ResetShard(
      Shard& shard, const std::vector<uint64_t>& seeds);
  // A shard's part of a step whose server was lost: a reset of its new
  // handle, its episodes cut (truncated, reward 0, the last observations
  // as final ones).
  absl::Status Cut(Shard& shard, Merge& merge);
  // Keeps the merged observations: what a cut episode ended on.
  void KeepLast();

  std::vector<EnvClient*> clients_;
  std::vector<bool> lost_;  // per client
  ShardedEnvOptions options_;
  int num_copies_ = 0;
  // One server: the shard's own arrays and answers pass through.
  bool passthrough_ = false;
  proto::EnvSpec proto_spec_;
  EnvSpec spec_;
  std::vector<Shard> shards_;
  bool seeded_ = false;  // the first reset (with per-copy seeds) was sent
  int replacements_ = 0;
  // The step in flight: per shard, sent yet and its failure; per client,
  // a request outstanding.
  bool in_flight_ = false;
  std::vector<absl::Status> failed_;
  std::vector<bool> started_, busy_;
  // Several servers: the whole actions (sliced into the shards' buffers at
  // each step), the merged answer and, with tolerate_server_loss, the last
  // observations (per agent; public; state).
  std::vector<std::vector<int64_t>> discrete_;
  std::vector<std::vector<float>> continuous_;
  proto::TimeStep merged_;
  std::vector<std::string> last_observation_;
  std::string last_public_, last_state_;
};

}  // namespace marl

#endif  // MARL_CLIENT_SHARDED_ENV_H_
