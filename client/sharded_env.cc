#include "client/sharded_env.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "envs/core/env_batch.h"
#include "google/protobuf/util/message_differencer.h"
#include "protocol/protocol_arrays.h"

namespace marl {
namespace {

// A transport failure (the server stopped answering), not a refusal.
bool Lost(const EnvClient& client, const absl::Status& status) {
  return !status.ok() && client.connection_lost();
}

// One array field with a row per copy: each part's rows are written at
// their copies' place, and every row must come (or none: the field is
// absent).
class RowField {
 public:
  RowField(std::string* merged, int total) : merged_(merged), total_(total) {
    merged_->clear();  // keeps its capacity
  }
  bool Write(const std::string& part, int count, int offset) {
    if (part.empty()) {
      empty_rows_ += count;
      return true;
    }
    if (part.size() % count != 0) return false;
    if (rows_ == 0) {
      width_ = part.size() / count;
      merged_->resize(width_ * total_);
    } else if (part.size() / count != width_) {
      return false;
    }
    std::memcpy(merged_->data() + width_ * offset, part.data(), part.size());
    rows_ += count;
    return true;
  }
  bool Complete() const {
    return rows_ + empty_rows_ == total_ && (rows_ == 0 || empty_rows_ == 0);
  }
  size_t width() const { return width_; }
  std::string* merged() const { return merged_; }

 private:
  std::string* merged_;
  size_t total_;
  size_t width_ = 0;
  size_t rows_ = 0;
  size_t empty_rows_ = 0;
};

template <typename T>
void Put(std::string* bytes, size_t index, T value) {
  std::memcpy(bytes->data() + index * sizeof(T), &value, sizeof(T));
}

template <typename T>
T Get(const std::string& bytes, size_t index) {
  T value;
  std::memcpy(&value, bytes.data() + index * sizeof(T), sizeof(T));
  return value;
}

}  // namespace

// The shards' answers to one reset or step, merged into merged_ part by
// part in any order: rows at their copies' place; final observations kept
// by part and written in row order by Finish (protocol version 3 sends no
// final rows: they are the ended rows, in order).
class ShardedEnv::Merge {
 public:
  Merge(proto::TimeStep* merged, int agents, int total, bool auto_reset)
      : merged_(merged),
        auto_reset_(auto_reset),
        copies_(merged->mutable_copies(), total),
        terminated_(merged->mutable_terminated(), total),
        truncated_(merged->mutable_truncated(), total),
        episode_step_(merged->mutable_episode_step(), total),
        public_(merged->mutable_public_observation(), total),
        state_(merged->mutable_state(), total),
        current_(merged->mutable_current_agent(), total),
        info_(merged->mutable_info(), total) {
    while (merged->agents_size() < agents) merged->add_agents();
    for (int a = 0; a < agents; ++a) {
      proto::AgentTimeStep* agent = merged->mutable_agents(a);
      observation_.emplace_back(agent->mutable_observation(), total);
      reward_.emplace_back(agent->mutable_reward(), total);
      mask_.emplace_back(agent->mutable_action_mask(), total);
      agent->mutable_final_observation()->clear();
    }
    merged->mutable_final_public_observation()->clear();
    merged->mutable_final_state()->clear();
  }

  // False if the part does not fit the rows it should answer for.
  bool Add(const proto::TimeStep& part, int offset, int count) {
    const int agents = static_cast<int>(observation_.size());
    if (part.agents_size() != agents ||
        !copies_.Write(part.copies(), count, offset) ||
        !terminated_.Write(part.terminated(), count, offset) ||
        !truncated_.Write(part.truncated(), count, offset) ||
        !episode_step_.Write(part.episode_step(), count, offset) ||
        !public_.Write(part.public_observation(), count, offset) ||
        !state_.Write(part.state(), count, offset) ||
        !current_.Write(part.current_agent(), count, offset) ||
        !info_.Write(part.info(), count, offset)) {
      return false;
    }
    for (int a = 0; a < agents; ++a) {
      const proto::AgentTimeStep& agent = part.agents(a);
      if (!observation_[a].Write(agent.observation(), count, offset) ||
          !reward_[a].Write(agent.reward(), count, offset) ||
          !mask_[a].Write(agent.action_mask(), count, offset)) {
        return false;
      }
    }
    // The part names its own copies 0..count-1 (or none: all, in order,
    // and so do the merged rows): they are offset..
    if (copies_.width() == sizeof(int32_t)) {
      std::string* copies = copies_.merged();
      for (int r = offset; r < offset + count; ++r) {
        Put<int32_t>(copies, r, Get<int32_t>(*copies, r) + offset);
      }
    }
    FinalRows(part.terminated(), part.truncated(), auto_reset_, &rows_);
    const size_t finals = rows_.size();
    std::vector<std::string> arrays;
    for (int a = 0; a < agents; ++a) {
      arrays.push_back(part.agents(a).final_observation());
    }
    arrays.push_back(part.final_public_observation());
    arrays.push_back(part.final_state());
    return AddFinals(offset, finals, std::move(arrays));
  }

  // The final observations of `finals` rows of the part at `offset`: per
  // agent, then the public observation and the state (rows of the merged
  // arrays' widths). False if one does not hold `finals` rows.
  bool AddFinals(int offset, size_t finals, std::vector<std::string> arrays) {
    const size_t agents = observation_.size();
    for (size_t i = 0; i < arrays.size(); ++i) {
      const size_t width = i < agents    ? observation_[i].width()
                           : i == agents ? public_.width()
                                         : state_.width();
      if (arrays[i].size() != finals * width) return false;
    }
    finals_.push_back({offset, std::move(arrays)});
    return true;
  }

  // Writes the final observations, parts in row order.
  void Finish() {
    std::sort(finals_.begin(), finals_.end(),
              [](const PartFinals& a, const PartFinals& b) {
                return a.offset < b.offset;
              });
    const int agents = static_cast<int>(observation_.size());
    for (const PartFinals& part : finals_) {
      for (int a = 0; a < agents; ++a) {
        merged_->mutable_agents(a)->mutable_final_observation()->append(
            part.arrays[a]);
      }
      merged_->mutable_final_public_observation()->append(part.arrays[agents]);
      merged_->mutable_final_state()->append(part.arrays[agents + 1]);
    }
  }

  // Every row answered.
  bool Complete() const {
    for (const RowField* field :
         {&copies_, &terminated_, &truncated_, &episode_step_, &public_,
          &state_, &current_, &info_}) {
      if (!field->Complete()) return false;
    }
    for (size_t a = 0; a < observation_.size(); ++a) {
      if (!observation_[a].Complete() || !reward_[a].Complete() ||
          !mask_[a].Complete()) {
        return false;
      }
    }
    return true;
  }

 private:
  struct PartFinals {
    int offset;
    std::vector<std::string> arrays;  // as AddFinals takes them
  };

  proto::TimeStep* merged_;
  bool auto_reset_;
  std::vector<int32_t> rows_;  // scratch
  std::vector<PartFinals> finals_;
  RowField copies_, terminated_, truncated_, episode_step_, public_, state_,
      current_, info_;
  std::vector<RowField> observation_, reward_, mask_;
};

ShardedEnv::ShardedEnv(std::vector<EnvClient*> clients,
                       ShardedEnvOptions options)
    : clients_(std::move(clients)),
      lost_(clients_.size(), false),
      options_(std::move(options)),
      num_copies_(options_.num_copies),
      passthrough_(clients_.size() == 1) {}

ShardedEnv::~ShardedEnv() = default;

absl::StatusOr<std::unique_ptr<ShardedEnv>> ShardedEnv::Make(
    const std::vector<EnvClient*>& clients, const ShardedEnvOptions& options) {
  if (clients.empty()) {
    return absl::InvalidArgumentError("no environment server to use");
  }
  if (options.num_copies < 1) {
    return absl::InvalidArgumentError("num_copies must be >= 1");
  }
  std::unique_ptr<ShardedEnv> env(new ShardedEnv(clients, options));
  const int servers =
      std::min<int>(static_cast<int>(clients.size()), options.num_copies);
  int offset = 0;
  for (int k = 0; k < servers; ++k) {
    Shard shard;
    shard.server = k;
    shard.offset = offset;
    shard.count =
        options.num_copies / servers + (k < options.num_copies % servers);
    offset += shard.count;
    absl::StatusOr<std::unique_ptr<RemoteEnv>> made =
        env->MakeOn(k, shard.count, options.seed);
    if (!made.ok()) {
      return absl::Status(
          made.status().code(),
          absl::StrCat(env->Describe(shard), ": ", made.status().message()));
    }
    shard.env = *std::move(made);
    env->shards_.push_back(std::move(shard));
  }
  // Servers of other versions may declare the same environment otherwise:
  // the copies must be one environment.
  const Shard& first = env->shards_[0];
  proto::EnvSpec reference = first.env->proto_spec();
  reference.set_num_copies(0);
  for (size_t k = 1; k < env->shards_.size(); ++k) {
    proto::EnvSpec spec = env->shards_[k].env->proto_spec();
    spec.set_num_copies(0);
    if (!google::protobuf::util::MessageDifferencer::Equals(spec, reference)) {
      return absl::FailedPreconditionError(absl::StrCat(
          env->Describe(env->shards_[k]), " declares environment '",
          options.env_name, "' with another spec than ", env->Describe(first)));
    }
  }
  env->proto_spec_ = first.env->proto_spec();
  env->proto_spec_.set_num_copies(options.num_copies);
  env->spec_ = first.env->spec();
  if (!env->passthrough_) {
    const int agents = env->num_agents();
    env->discrete_.resize(agents);
    env->continuous_.resize(agents);
    env->last_observation_.resize(agents);
    for (const Shard& shard : env->shards_) {
      for (int a = 0; a < agents; ++a) {
        const auto& d = shard.env->discrete_actions(a);
        const auto& c = shard.env->continuous_actions(a);
        env->discrete_[a].insert(env->discrete_[a].end(), d.begin(), d.end());
        env->continuous_[a].insert(env->continuous_[a].end(), c.begin(),
                                   c.end());
      }
    }
  }
  return env;
}

absl::StatusOr<std::unique_ptr<RemoteEnv>> ShardedEnv::MakeOn(int server,
                                                              int count,
                                                              uint64_t seed) {
  return RemoteEnv::Make(clients_[server], options_.env_name, options_.settings,
                         count, seed, options_.auto_reset);
}

std::string ShardedEnv::Describe(const Shard& shard) const {
  const EnvClient& client = *clients_[shard.server];
  std::string where =
      client.embedded()
          ? std::string("the embedded environment server")
          : absl::StrCat("environment server ", client.endpoint());
  if (clients_.size() == 1) return where;
  return absl::StrCat(where, " (server ", shard.server + 1, " of ",
                      clients_.size(), ", copies ", shard.offset, "-",
                      shard.offset + shard.count - 1, ")");
}

int ShardedEnv::num_live_servers() const {
  std::vector<bool> live(clients_.size(), false);
  for (const Shard& shard : shards_) live[shard.server] = true;
  return static_cast<int>(std::count(live.begin(), live.end(), true));
}

absl::Status ShardedEnv::Failed(Shard& shard, const absl::Status& status) {
  const std::string where = Describe(shard);
  const bool lost = Lost(*clients_[shard.server], status);
  if (!lost || !options_.tolerate_server_loss) {
    const char* advice =
        lost ? " (--tolerate_server_loss carries on with the other servers)"
             : "";
    return absl::Status(status.code(),
                        absl::StrCat(where, ": ", status.message(), advice));
  }
  lost_[shard.server] = true;
  // The next live server takes the copies, on a handle of their own.
  for (size_t step = 1; step < clients_.size(); ++step) {
    const int server = (shard.server + step) % clients_.size();
    if (lost_[server]) continue;
    absl::StatusOr<std::unique_ptr<RemoteEnv>> made = MakeOn(
        server, shard.count,
        EnvBatch::SeedForCopy(options_.seed, num_copies_ + replacements_));
    if (!made.ok()) {
      if (Lost(*clients_[server], made.status())) {
        lost_[server] = true;
        continue;
      }
      return absl::Status(made.status().code(),
                          absl::StrCat("moving the copies of ", where,
                                       " (lost: ", status.message(), ") to ",
                                       clients_[server]->endpoint(), ": ",
                                       made.status().message()));
    }
    ++replacements_;
    if (options_.log != nullptr) {
      *options_.log << "warning: " << where << " is lost (" << status.message()
                    << "); its copies continue on "
                    << clients_[server]->endpoint() << std::endl;
    }
    shard.server = server;
    shard.env = *std::move(made);
    return absl::OkStatus();
  }
  return absl::Status(
      status.code(),
      absl::StrCat("every environment server is lost; the last, ", where, ": ",
                   status.message()));
}

absl::StatusOr<const proto::TimeStep*> ShardedEnv::ResetShard(
    Shard& shard, const std::vector<uint64_t>& seeds) {
  while (true) {
    absl::StatusOr<const proto::TimeStep*> reset = shard.env->Reset(seeds);
    if (reset.ok()) return reset;
    // Lost servers' copies start again on another one (each loss marks a
    // server, so this ends).
    if (absl::Status s = Failed(shard, reset.status()); !s.ok()) return s;
  }
}

absl::Status ShardedEnv::Cut(Shard& shard, Merge& merge) {
  absl::StatusOr<const proto::TimeStep*> reset = ResetShard(shard, {});
  if (!reset.ok()) return reset.status();
  if (!merge.Add(**reset, shard.offset, shard.count)) {
    return absl::DataLossError(
        absl::StrCat(Describe(shard), ": a reset of the wrong size"));
  }
  for (int r = shard.offset; r < shard.offset + shard.count; ++r) {
    merged_.mutable_truncated()->at(r) = 1;
    for (int a = 0; a < num_agents(); ++a) {
      Put<float>(merged_.mutable_agents(a)->mutable_reward(), r, 0.0f);
    }
  }
  // Every row ended: their final observations are the last ones seen.
  std::vector<std::string> rows;
  auto add = [&](const std::string& last) {
    const size_t width = last.size() / num_copies_;
    rows.push_back(last.substr(shard.offset * width, shard.count * width));
  };
  for (int a = 0; a < num_agents(); ++a) add(last_observation_[a]);
  add(last_public_);
  add(last_state_);
  if (!merge.AddFinals(shard.offset, shard.count, std::move(rows))) {
    return absl::DataLossError(absl::StrCat(
        Describe(shard), ": its copies' last observations do not fit"));
  }
  return absl::OkStatus();
}

void ShardedEnv::KeepLast() {
  if (!options_.tolerate_server_loss) return;
  for (int a = 0; a < num_agents(); ++a) {
    last_observation_[a] = merged_.agents(a).observation();
  }
  last_public_ = merged_.public_observation();
  last_state_ = merged_.state();
}

absl::StatusOr<const proto::TimeStep*> ShardedEnv::Reset(
    const std::vector<uint64_t>& seeds) {
  if (!seeds.empty() && static_cast<int>(seeds.size()) != num_copies_) {
    return absl::InvalidArgumentError(absl::StrCat(
        "reset with ", seeds.size(), " seeds for ", num_copies_, " copies"));
  }
  // The first reset seeds each copy as one handle of all copies would
  // have been (PROTOCOL.md "Seeds"; one server's handle is that already).
  std::vector<uint64_t> all = seeds;
  if (all.empty() && !seeded_ && !passthrough_) {
    for (int c = 0; c < num_copies_; ++c) {
      all.push_back(EnvBatch::SeedForCopy(options_.seed, c));
    }
  }
  seeded_ = true;
  if (passthrough_) {
    return shards_[0].env->Reset(all);
  }
  Merge merge(&merged_, num_agents(), num_copies_, options_.auto_reset);
  for (Shard& shard : shards_) {
    std::vector<uint64_t> own;
    if (!all.empty()) {
      own.assign(all.begin() + shard.offset,
                 all.begin() + shard.offset + shard.count);
    }
    absl::StatusOr<const proto::TimeStep*> reset = ResetShard(shard, own);
    if (!reset.ok()) return reset.status();
    if (!merge.Add(**reset, shard.offset, shard.count)) {
      return absl::DataLossError(absl::StrCat(
          Describe(shard), ": its answer does not fit its copies"));
    }
  }
  if (!merge.Complete()) {
    return absl::DataLossError(
        "the servers' answers disagree about which arrays they send");
  }
  merge.Finish();
  KeepLast();
  return &merged_;
}

std::vector<int64_t>& ShardedEnv::discrete_actions(int agent) {
  return passthrough_ ? shards_[0].env->discrete_actions(agent)
                      : discrete_[agent];
}

std::vector<float>& ShardedEnv::continuous_actions(int agent) {
  return passthrough_ ? shards_[0].env->continuous_actions(agent)
                      : continuous_[agent];
}

absl::StatusOr<const proto::TimeStep*> ShardedEnv::Step() {
  if (absl::Status s = StartStep(); !s.ok()) return s;
  return FinishStep();
}

absl::Status ShardedEnv::StartStep() {
  if (in_flight_) {
    return absl::FailedPreconditionError("a step is in flight already");
  }
  if (passthrough_) {
    absl::Status sent = shards_[0].env->StartStep();
    in_flight_ = sent.ok();
    return sent;
  }
  const int agents = num_agents();
  for (Shard& shard : shards_) {
    for (int a = 0; a < agents; ++a) {
      const size_t d = discrete_[a].size() / num_copies_;
      const size_t c = continuous_[a].size() / num_copies_;
      std::copy_n(discrete_[a].begin() + shard.offset * d, shard.count * d,
                  shard.env->discrete_actions(a).begin());
      std::copy_n(continuous_[a].begin() + shard.offset * c, shard.count * c,
                  shard.env->continuous_actions(a).begin());
    }
  }
  // Every server gets its request before any answer is awaited. A client
  // holds one request at a time: a second shard on the same server (after
  // a loss) is sent once the first is answered, in FinishStep.
  const size_t n = shards_.size();
  failed_.assign(n, absl::OkStatus());
  started_.assign(n, false);
  busy_.assign(clients_.size(), false);
  for (size_t k = 0; k < n; ++k) {
    if (!busy_[shards_[k].server]) StartShard(k);
  }
  in_flight_ = true;
  return absl::OkStatus();
}

void ShardedEnv::StartShard(size_t k) {
  started_[k] = true;
  failed_[k] = shards_[k].env->StartStep();
  busy_[shards_[k].server] = failed_[k].ok();
}

absl::StatusOr<const proto::TimeStep*> ShardedEnv::FinishStep() {
  if (!in_flight_) return absl::FailedPreconditionError("no step in flight");
  in_flight_ = false;
  if (passthrough_) return shards_[0].env->FinishStep();
  const int agents = num_agents();
  const size_t n = shards_.size();
  Merge merge(&merged_, agents, num_copies_, options_.auto_reset);
  for (size_t k = 0; k < n; ++k) {
    Shard& shard = shards_[k];
    if (!started_[k]) StartShard(k);
    if (!failed_[k].ok()) continue;
    absl::StatusOr<const proto::TimeStep*> stepped = shard.env->FinishStep();
    busy_[shard.server] = false;
    if (!stepped.ok()) {
      failed_[k] = stepped.status();
    } else if (!merge.Add(**stepped, shard.offset, shard.count)) {
      return absl::DataLossError(absl::StrCat(
          Describe(shard), ": its answer does not fit its copies"));
    }
  }
  // Nothing is in flight now: lost servers' copies move.
  for (size_t k = 0; k < n; ++k) {
    if (failed_[k].ok()) continue;
    if (absl::Status s = Failed(shards_[k], failed_[k]); !s.ok()) return s;
    if (absl::Status s = Cut(shards_[k], merge); !s.ok()) return s;
  }
  if (!merge.Complete()) {
    return absl::DataLossError(
        "the servers' answers disagree about which arrays they send");
  }
  merge.Finish();
  KeepLast();
  return &merged_;
}

}  // namespace marl
