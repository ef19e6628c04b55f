#include "agents/independent/trainer.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <deque>
#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/env_client.h"
#include "common/json.h"
#include "common/proto/env_protocol.pb.h"
#include "common/remote_env.h"
#include "common/run_writer.h"
#include "envs/core/env_spec.h"

namespace marl {
namespace {

using Clock = std::chrono::steady_clock;
using Values = std::vector<std::pair<std::string, double>>;

constexpr char kCheckpointMagic[] = "marl-independent-checkpoint-v1";
// Probabilities are logged for tables up to this many entries.
constexpr int64_t kMaxLoggedProbabilities = 64;
// An evaluation episode that never ends is cut after this many steps (when
// the spec has no episode limit).
constexpr int kMaxEvalSteps = 10000;

double Seconds(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Independent streams from one run seed: stream 0 is the environment.
uint64_t DeriveSeed(uint64_t seed, uint64_t stream) {
  return SplitMix64(seed ^ SplitMix64(stream));
}

// A Discrete observation arrives as its index written as a float.
absl::StatusOr<int64_t> DiscreteIndex(float value, int64_t n,
                                      const std::string& agent) {
  const int64_t index = std::llround(value);
  if (!(std::fabs(value - static_cast<float>(index)) < 1e-3f) || index < 0 ||
      index >= n) {
    return absl::OutOfRangeError(
        absl::StrCat("agent ", agent, " got observation ", value,
                     ", not an index of its Discrete(", n, ") space"));
  }
  return index;
}

// ------------------------------------------------------------ learners --

// One agent's learner behind one interface, so the loop does not care which
// algorithm an agent runs. Rows are the environment's packed layout.
class AgentLearner {
 public:
  virtual ~AgentLearner() = default;
  virtual const char* kind() const = 0;
  // Actions for `n` rows of observations; `mask` (n x actions, or null)
  // marks legal Discrete actions.
  virtual absl::Status Act(const float* obs, const bool* mask, int n,
                           bool deterministic, int64_t* discrete,
                           float* continuous) = 0;
  virtual absl::Status Observe(const float* obs, const int64_t* discrete,
                               const float* continuous, float reward,
                               const float* next_obs, bool terminated) = 0;
  // After each batched step (SAC runs its banked gradient updates here).
  virtual void Train() {}
  // Losses since the last call (then reset), the temperature, and what
  // the policy does at `obs` (probabilities of small tables, the greedy
  // action).
  virtual absl::Status Metrics(const float* obs, Values* values) = 0;
  virtual absl::StatusOr<std::vector<double>> GreedyAction(
      const float* obs) = 0;
  virtual absl::StatusOr<std::string> Save() const = 0;
  virtual absl::Status Load(const std::string& bytes) = 0;
};

class SoftQAgent : public AgentLearner {
 public:
  SoftQAgent(std::string id, SoftQLearner learner, int64_t num_actions)
      : id_(std::move(id)),
        learner_(std::move(learner)),
        num_actions_(num_actions) {}

  const char* kind() const override { return "soft_q"; }

  absl::Status Act(const float* obs, const bool* mask, int n,
                   bool deterministic, int64_t* discrete,
                   float* continuous) override {
    for (int i = 0; i < n; ++i) {
      absl::StatusOr<int64_t> s = Index(obs[i]);
      if (!s.ok()) return s.status();
      const bool* row_mask = mask ? mask + i * num_actions_ : nullptr;
      discrete[i] = deterministic ? learner_.Greedy(*s, row_mask)
                                  : learner_.Sample(*s, row_mask);
    }
    return absl::OkStatus();
  }

  absl::Status Observe(const float* obs, const int64_t* discrete,
                       const float* continuous, float reward,
                       const float* next_obs, bool terminated) override {
    absl::StatusOr<int64_t> s = Index(obs[0]);
    if (!s.ok()) return s.status();
    absl::StatusOr<int64_t> next = Index(next_obs[0]);
    if (!next.ok()) return next.status();
    const double td =
        learner_.Update(*s, discrete[0], reward, *next, terminated);
    td_squared_ += td * td;
    ++td_count_;
    return absl::OkStatus();
  }

  absl::Status Metrics(const float* obs, Values* values) override {
    if (td_count_ > 0) values->push_back({"loss_q", td_squared_ / td_count_});
    td_squared_ = 0;
    td_count_ = 0;
    values->push_back({"temperature", learner_.temperature()});
    absl::StatusOr<int64_t> s = Index(obs[0]);
    if (!s.ok()) return s.status();
    std::vector<double> probs;
    learner_.Probabilities(*s, &probs);
    double entropy = 0;
    for (double p : probs) entropy -= p > 0 ? p * std::log(p) : 0.0;
    values->push_back({"entropy", entropy});
    const int64_t num_obs = learner_.num_observations();
    if (num_obs * num_actions_ <= kMaxLoggedProbabilities) {
      // prob_a<k> for one-state games (matrix games); prob_s<s>_a<k> else.
      for (int64_t state = 0; state < num_obs; ++state) {
        learner_.Probabilities(state, &probs);
        for (int64_t a = 0; a < num_actions_; ++a) {
          values->push_back({num_obs == 1
                                 ? absl::StrCat("prob_a", a)
                                 : absl::StrCat("prob_s", state, "_a", a),
                             probs[a]});
        }
      }
    }
    values->push_back({"greedy_action", double(learner_.Greedy(*s))});
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<double>> GreedyAction(const float* obs) override {
    absl::StatusOr<int64_t> s = Index(obs[0]);
    if (!s.ok()) return s.status();
    return std::vector<double>{double(learner_.Greedy(*s))};
  }

  absl::StatusOr<std::string> Save() const override {
    return learner_.Serialize();
  }
  absl::Status Load(const std::string& bytes) override {
    return learner_.Restore(bytes);
  }

 private:
  absl::StatusOr<int64_t> Index(float value) const {
    return DiscreteIndex(value, learner_.num_observations(), id_);
  }

  std::string id_;
  SoftQLearner learner_;
  int64_t num_actions_;
  double td_squared_ = 0;
  int64_t td_count_ = 0;
};

class SacAgent : public AgentLearner {
 public:
  SacAgent(std::string id, std::unique_ptr<SacLearner> learner,
           const Space& obs_space)
      : id_(std::move(id)),
        learner_(std::move(learner)),
        obs_space_(obs_space),
        raw_obs_size_(obs_space.FlatSize()) {}

  const char* kind() const override { return "sac"; }

  absl::Status Act(const float* obs, const bool* mask, int n,
                   bool deterministic, int64_t* discrete,
                   float* continuous) override {
    encoded_.resize(static_cast<size_t>(n * learner_->obs_dim()));
    for (int i = 0; i < n; ++i) {
      absl::Status s = Encode(obs + i * raw_obs_size_,
                              encoded_.data() + i * learner_->obs_dim());
      if (!s.ok()) return s;
    }
    learner_->Act(encoded_.data(), n, deterministic, continuous);
    return absl::OkStatus();
  }

  absl::Status Observe(const float* obs, const int64_t* discrete,
                       const float* continuous, float reward,
                       const float* next_obs, bool terminated) override {
    const int64_t d = learner_->obs_dim();
    encoded_.resize(static_cast<size_t>(2 * d));
    if (absl::Status s = Encode(obs, encoded_.data()); !s.ok()) return s;
    if (absl::Status s = Encode(next_obs, encoded_.data() + d); !s.ok()) {
      return s;
    }
    learner_->Observe(encoded_.data(), continuous, reward, encoded_.data() + d,
                      terminated);
    return absl::OkStatus();
  }

  void Train() override {
    SacLosses losses;
    const int n = learner_->TrainPending(&losses);
    if (n == 0) return;
    sum_.critic_loss += n * losses.critic_loss;
    sum_.actor_loss += n * losses.actor_loss;
    sum_.entropy += n * losses.entropy;
    sum_.q_mean += n * losses.q_mean;
    sum_.alpha_loss += n * losses.alpha_loss;
    updates_ += n;
  }

  absl::Status Metrics(const float* obs, Values* values) override {
    if (updates_ > 0) {
      values->push_back({"loss_q", sum_.critic_loss / updates_});
      values->push_back({"loss_actor", sum_.actor_loss / updates_});
      values->push_back({"entropy", sum_.entropy / updates_});
      values->push_back({"q_mean", sum_.q_mean / updates_});
      if (learner_->options().auto_entropy) {
        values->push_back({"loss_alpha", sum_.alpha_loss / updates_});
      }
    }
    sum_ = SacLosses();
    updates_ = 0;
    values->push_back({"temperature", learner_->alpha()});
    values->push_back({"updates", double(learner_->updates())});
    absl::StatusOr<std::vector<double>> greedy = GreedyAction(obs);
    if (!greedy.ok()) return greedy.status();
    for (size_t k = 0; k < greedy->size() && k < 8; ++k) {
      values->push_back({greedy->size() == 1
                             ? std::string("greedy_action")
                             : absl::StrCat("greedy_action_", k),
                         (*greedy)[k]});
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<double>> GreedyAction(const float* obs) override {
    std::vector<float> action(static_cast<size_t>(learner_->action_dim()));
    if (absl::Status s = Act(obs, nullptr, 1, true, nullptr, action.data());
        !s.ok()) {
      return s;
    }
    return std::vector<double>(action.begin(), action.end());
  }

  absl::StatusOr<std::string> Save() const override { return learner_->Save(); }
  absl::Status Load(const std::string& bytes) override {
    return learner_->Load(bytes);
  }

 private:
  // One-hot for a Discrete observation, the floats as they are for a Box.
  absl::Status Encode(const float* raw, float* out) const {
    if (!obs_space_.is_discrete()) {
      std::copy(raw, raw + raw_obs_size_, out);
      return absl::OkStatus();
    }
    absl::StatusOr<int64_t> index = DiscreteIndex(raw[0], obs_space_.n, id_);
    if (!index.ok()) return index.status();
    std::fill(out, out + obs_space_.n, 0.0f);
    out[*index] = 1.0f;
    return absl::OkStatus();
  }

  std::string id_;
  std::unique_ptr<SacLearner> learner_;
  Space obs_space_;
  int64_t raw_obs_size_;
  std::vector<float> encoded_;
  SacLosses sum_;
  int64_t updates_ = 0;
};

// ---------------------------------------------------------- checkpoints --

// "<magic>\n<agents>\n" then per agent "<id>\n<kind>\n<bytes>\n" + bytes:
// binary-safe (torch archives hold NULs), and self-describing enough to
// refuse a checkpoint of another environment or learner.
std::string PackCheckpoint(const std::vector<std::string>& ids,
                           const std::vector<std::string>& kinds,
                           const std::vector<std::string>& blobs) {
  std::string out = absl::StrCat(kCheckpointMagic, "\n", ids.size(), "\n");
  for (size_t i = 0; i < ids.size(); ++i) {
    absl::StrAppend(&out, ids[i], "\n", kinds[i], "\n", blobs[i].size(), "\n",
                    blobs[i]);
  }
  return out;
}

struct CheckpointEntry {
  std::string id, kind, bytes;
};

absl::StatusOr<std::vector<CheckpointEntry>> UnpackCheckpoint(
    const std::string& data) {
  size_t pos = 0;
  auto line = [&](std::string* out) {
    const size_t end = data.find('\n', pos);
    if (end == std::string::npos) return false;
    *out = data.substr(pos, end - pos);
    pos = end + 1;
    return true;
  };
  const absl::Status bad = absl::InvalidArgumentError(
      absl::StrCat("not an independent-learner checkpoint (expected '",
                   kCheckpointMagic, "' format)"));
  std::string text;
  if (!line(&text) || text != kCheckpointMagic || !line(&text)) return bad;
  char* end = nullptr;
  const long count = std::strtol(text.c_str(), &end, 10);
  if (end == text.c_str() || *end != '\0' || count < 0 || count > 10000) {
    return bad;
  }
  std::vector<CheckpointEntry> entries(static_cast<size_t>(count));
  for (CheckpointEntry& e : entries) {
    if (!line(&e.id) || !line(&e.kind) || !line(&text)) return bad;
    const unsigned long long size = std::strtoull(text.c_str(), &end, 10);
    if (end == text.c_str() || *end != '\0' || size > data.size() - pos) {
      return bad;
    }
    e.bytes = data.substr(pos, size);
    pos += size;
  }
  return entries;
}

// --------------------------------------------------------------- runner --

std::string ValuesLine(const std::vector<std::string>& ids,
                       const std::vector<double>& values) {
  std::vector<std::string> parts;
  for (size_t i = 0; i < ids.size(); ++i) {
    parts.push_back(absl::StrFormat("%s %.3f", ids[i], values[i]));
  }
  return absl::StrJoin(parts, "  ");
}

std::string FormatDuration(double seconds) {
  if (!std::isfinite(seconds)) return "?";
  const int64_t s = static_cast<int64_t>(std::ceil(seconds));
  if (s < 60) return absl::StrCat(s, "s");
  if (s < 3600) return absl::StrFormat("%dm%02ds", s / 60, s % 60);
  return absl::StrFormat("%dh%02dm", s / 3600, (s % 3600) / 60);
}

absl::Status ValidateOptions(const IndependentOptions& o) {
  if (o.mode != "train" && o.mode != "eval") {
    return absl::InvalidArgumentError(
        absl::StrCat("--mode must be 'train' or 'eval', got '", o.mode, "'"));
  }
  if (o.learner != "auto" && o.learner != "soft_q" && o.learner != "sac") {
    return absl::InvalidArgumentError(absl::StrCat(
        "--learner must be 'auto', 'soft_q' or 'sac', got '", o.learner, "'"));
  }
  if (o.env.empty()) return absl::InvalidArgumentError("--env is empty");
  if (o.num_copies < 1) {
    return absl::InvalidArgumentError("--num_copies must be >= 1");
  }
  if (o.steps < 0) return absl::InvalidArgumentError("--steps must be >= 0");
  if (o.eval_episodes < 1) {
    return absl::InvalidArgumentError("--eval_episodes must be >= 1");
  }
  if (o.eval_every < 0 || o.log_every < 0 || o.checkpoint_every < 0) {
    return absl::InvalidArgumentError(
        "--eval_every, --log_every and --checkpoint_every must be >= 0");
  }
  if (o.return_window < 1) {
    return absl::InvalidArgumentError("--return_window must be >= 1");
  }
  if (!(o.progress_seconds > 0)) {
    return absl::InvalidArgumentError("--progress_seconds must be > 0");
  }
  if (o.timeout_ms < 1) {
    return absl::InvalidArgumentError("--timeout_ms must be >= 1");
  }
  if (o.mode == "eval" && o.restore.empty()) {
    return absl::InvalidArgumentError(
        "--mode=eval needs --restore=<checkpoint file> (e.g. "
        "runs/<run>/checkpoints/final)");
  }
  return absl::OkStatus();
}

class Runner {
 public:
  explicit Runner(const IndependentOptions& options) : o_(options) {}

  absl::StatusOr<IndependentResult> Run() {
    if (absl::Status s = ValidateOptions(o_); !s.ok()) return s;
    // Read the checkpoint before anything touches the disk or the server,
    // so a wrong path fails fast.
    std::string restored;
    if (!o_.restore.empty()) {
      absl::StatusOr<std::string> bytes = ReadFile(o_.restore);
      if (!bytes.ok()) {
        return absl::Status(
            bytes.status().code(),
            absl::StrCat("--restore: ", bytes.status().message()));
      }
      restored = *std::move(bytes);
    }
    if (absl::Status s = Connect(); !s.ok()) return s;
    if (absl::Status s = BuildLearners(); !s.ok()) return s;
    if (!o_.restore.empty()) {
      if (absl::Status s = Restore(restored); !s.ok()) return s;
    }
    if (absl::Status s = OpenRun(); !s.ok()) return s;

    IndependentResult result;
    std::vector<double> final_returns;
    if (o_.mode == "train") {
      if (absl::Status s = Train(); !s.ok()) return s;
      if (absl::Status s = SaveCheckpoint("final"); !s.ok()) return s;
    }
    absl::StatusOr<std::vector<double>> returns = Evaluate();
    if (!returns.ok()) return returns.status();

    result.steps = transitions_;
    result.episodes = episodes_;
    result.train_seconds = train_seconds_;
    result.steps_per_second =
        train_seconds_ > 0 ? transitions_ / train_seconds_ : 0.0;
    result.run_directory = writer_->directory();
    Values summary;
    for (int a = 0; a < num_agents_; ++a) {
      IndependentAgentResult agent;
      agent.id = ids_[a];
      agent.learner = learners_[a]->kind();
      agent.eval_return = (*returns)[a];
      absl::StatusOr<std::vector<double>> greedy =
          learners_[a]->GreedyAction(initial_obs_[a].data());
      if (!greedy.ok()) return greedy.status();
      agent.greedy_action = *std::move(greedy);
      summary.push_back(
          {absl::StrCat("final_eval_return_", agent.id), agent.eval_return});
      for (size_t k = 0; k < agent.greedy_action.size(); ++k) {
        summary.push_back(
            {agent.greedy_action.size() == 1
                 ? absl::StrCat("greedy_action_", agent.id)
                 : absl::StrCat("greedy_action_", agent.id, "_", k),
             agent.greedy_action[k]});
      }
      result.agents.push_back(std::move(agent));
    }
    summary.push_back({"total_steps", double(result.steps)});
    summary.push_back({"total_episodes", double(result.episodes)});
    summary.push_back({"train_seconds", result.train_seconds});
    summary.push_back({"steps_per_second", result.steps_per_second});
    if (absl::Status s = writer_->WriteSummary(summary); !s.ok()) return s;
    if (absl::Status s = writer_->Flush(); !s.ok()) return s;
    return result;
  }

 private:
  absl::Status Connect() {
    ClientOptions client_options;
    client_options.endpoint = o_.endpoint;
    client_options.timeout_ms = o_.timeout_ms;
    client_options.client_name = "independent";
    absl::StatusOr<std::unique_ptr<EnvClient>> client =
        EnvClient::Connect(client_options);
    if (!client.ok()) {
      return absl::Status(
          client.status().code(),
          absl::StrCat("connecting to the environment server",
                       o_.endpoint.empty() ? " (embedded)"
                                           : absl::StrCat(" at ", o_.endpoint),
                       ": ", client.status().message()));
    }
    client_ = *std::move(client);
    absl::StatusOr<std::unique_ptr<RemoteEnv>> env = RemoteEnv::Make(
        client_.get(), o_.env, o_.env_settings, o_.num_copies, o_.seed);
    if (!env.ok()) {
      return absl::Status(env.status().code(),
                          absl::StrCat("making environment '", o_.env,
                                       "': ", env.status().message()));
    }
    env_ = *std::move(env);
    // Evaluation runs on its own handle and seed so it never disturbs the
    // training episodes in flight.
    const int eval_copies = std::min(o_.eval_episodes, 64);
    env = RemoteEnv::Make(client_.get(), o_.env, o_.env_settings, eval_copies,
                          DeriveSeed(o_.seed, 1000003));
    if (!env.ok()) return env.status();
    eval_env_ = *std::move(env);
    const EnvSpec& spec = env_->spec();
    if (spec.sequential) {
      return absl::UnimplementedError(absl::StrCat(
          "environment '", o_.env,
          "' is turn-based; independent learners need simultaneous moves"));
    }
    num_agents_ = spec.num_agents();
    ids_ = spec.agent_ids;
    return absl::OkStatus();
  }

  absl::Status BuildLearners() {
    const EnvSpec& spec = env_->spec();
    for (int a = 0; a < num_agents_; ++a) {
      const Space& obs = spec.observation_spaces[a];
      const Space& act = spec.action_spaces[a];
      const uint64_t seed = DeriveSeed(o_.seed, 1 + a);
      std::string kind = o_.learner;
      if (kind == "auto") kind = act.is_box() ? "sac" : "soft_q";
      if (act.is_multi_discrete() || obs.is_multi_discrete()) {
        return absl::UnimplementedError(absl::StrCat(
            "agent ", ids_[a], ": MultiDiscrete spaces (observation ",
            obs.DebugString(), ", action ", act.DebugString(),
            ") have no independent learner"));
      }
      if (kind == "soft_q") {
        if (!act.is_discrete() || !obs.is_discrete()) {
          return absl::InvalidArgumentError(absl::StrCat(
              "agent ", ids_[a],
              ": soft_q needs Discrete observations and actions, got "
              "observation ",
              obs.DebugString(), " and action ", act.DebugString(),
              act.is_box() ? " (use --learner=sac or auto)" : ""));
        }
        absl::StatusOr<SoftQLearner> learner =
            SoftQLearner::Create(obs.n, act.n, o_.soft_q, seed);
        if (!learner.ok()) return learner.status();
        learners_.push_back(
            std::make_unique<SoftQAgent>(ids_[a], *std::move(learner), act.n));
      } else {
        if (!act.is_box()) {
          return absl::InvalidArgumentError(absl::StrCat(
              "agent ", ids_[a], ": sac needs Box actions, got ",
              act.DebugString(), " (use --learner=soft_q or auto)"));
        }
        const int64_t obs_dim = obs.is_discrete() ? obs.n : obs.FlatSize();
        absl::StatusOr<std::unique_ptr<SacLearner>> learner =
            SacLearner::Create(obs_dim, act.low, act.high, o_.sac, seed);
        if (!learner.ok()) {
          return absl::Status(learner.status().code(),
                              absl::StrCat("agent ", ids_[a], ": ",
                                           learner.status().message()));
        }
        learners_.push_back(
            std::make_unique<SacAgent>(ids_[a], *std::move(learner), obs));
      }
    }
    return absl::OkStatus();
  }

  absl::Status Restore(const std::string& data) {
    absl::StatusOr<std::vector<CheckpointEntry>> entries =
        UnpackCheckpoint(data);
    if (!entries.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--restore ", o_.restore, ": ", entries.status().message()));
    }
    if (static_cast<int>(entries->size()) != num_agents_) {
      return absl::InvalidArgumentError(
          absl::StrCat("--restore ", o_.restore, " holds ", entries->size(),
                       " agents but '", o_.env, "' has ", num_agents_));
    }
    for (int a = 0; a < num_agents_; ++a) {
      const CheckpointEntry& e = (*entries)[a];
      if (e.id != ids_[a] || e.kind != learners_[a]->kind()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--restore ", o_.restore, ": agent ", a, " is ", e.id, " (", e.kind,
            ") but this run has ", ids_[a], " (", learners_[a]->kind(), ")"));
      }
      if (absl::Status s = learners_[a]->Load(e.bytes); !s.ok()) {
        return absl::Status(s.code(),
                            absl::StrCat("--restore ", o_.restore, ": agent ",
                                         ids_[a], ": ", s.message()));
      }
    }
    return absl::OkStatus();
  }

  absl::Status OpenRun() {
    std::string spec_json;
    google::protobuf::util::JsonPrintOptions json_options;
    json_options.always_print_primitive_fields = true;
    auto status = google::protobuf::util::MessageToJsonString(
        env_->proto_spec(), &spec_json, json_options);
    if (!status.ok()) {
      return absl::InternalError(
          absl::StrCat("env spec to JSON: ", status.ToString()));
    }
    JsonObject learners;
    for (int a = 0; a < num_agents_; ++a) {
      learners.Add(ids_[a], learners_[a]->kind());
    }
    // The values actually used (tests and other callers bypass the flags).
    JsonObject hyper;
    hyper.Add("mode", o_.mode)
        .Add("num_copies", o_.num_copies)
        .Add("steps", o_.steps)
        .Add("learner", o_.learner)
        .Add("eval_every", o_.eval_every)
        .Add("eval_episodes", o_.eval_episodes)
        .Add("restore", o_.restore);
    JsonObject soft_q;
    soft_q.Add("lr", o_.soft_q.learning_rate)
        .Add("gamma", o_.soft_q.gamma)
        .Add("alpha", o_.soft_q.alpha)
        .Add("alpha_min", o_.soft_q.alpha_min)
        .Add("alpha_decay", o_.soft_q.alpha_decay);
    JsonObject sac;
    sac.Add("hidden", absl::StrJoin(o_.sac.hidden, ","))
        .Add("actor_lr", o_.sac.actor_lr)
        .Add("critic_lr", o_.sac.critic_lr)
        .Add("alpha", o_.sac.alpha)
        .Add("auto_entropy", o_.sac.auto_entropy)
        .Add("alpha_lr", o_.sac.alpha_lr)
        .Add("target_entropy", o_.sac.target_entropy)
        .Add("batch_size", o_.sac.batch_size)
        .Add("tau", o_.sac.tau)
        .Add("gamma", o_.sac.gamma)
        .Add("buffer_capacity", o_.sac.buffer_capacity)
        .Add("warmup", o_.sac.warmup)
        .Add("update_ratio", o_.sac.update_ratio);
    hyper.AddRaw("soft_q", soft_q.Build()).AddRaw("sac", sac.Build());

    RunOptions run;
    run.runs_root = o_.runs_root;
    run.run_name = o_.run_name;
    run.algorithm = "independent";
    run.env_name = o_.env;
    run.seed = o_.seed;
    absl::StatusOr<std::unique_ptr<RunWriter>> writer =
        RunWriter::Create(run, {{"env_spec", spec_json},
                                {"learners", learners.Build()},
                                {"options", hyper.Build()}});
    if (!writer.ok()) {
      return absl::Status(writer.status().code(),
                          absl::StrCat("creating the run directory: ",
                                       writer.status().message()));
    }
    writer_ = *std::move(writer);
    return absl::OkStatus();
  }

  // Copies a TimeStep's observations (and masks) out: the pointer dies at
  // the next call on the client, and evaluation shares the client.
  void CopyObservations(const proto::TimeStep& ts, int rows,
                        std::vector<std::vector<float>>* obs,
                        std::vector<std::unique_ptr<bool[]>>* masks) {
    obs->resize(num_agents_);
    masks->resize(num_agents_);
    for (int a = 0; a < num_agents_; ++a) {
      const auto& agent = ts.agents(a);
      (*obs)[a].assign(agent.observation().begin(), agent.observation().end());
      if (agent.action_mask_size() > 0) {
        if (!(*masks)[a]) {
          (*masks)[a] = std::make_unique<bool[]>(agent.action_mask_size());
        }
        std::copy(agent.action_mask().begin(), agent.action_mask().end(),
                  (*masks)[a].get());
      } else {
        (*masks)[a].reset();
      }
    }
  }

  absl::Status ActAll(RemoteEnv* env, int rows,
                      const std::vector<std::vector<float>>& obs,
                      const std::vector<std::unique_ptr<bool[]>>& masks,
                      bool deterministic) {
    for (int a = 0; a < num_agents_; ++a) {
      if (static_cast<int64_t>(obs[a].size()) <
          rows * env->spec().observation_spaces[a].FlatSize()) {
        return absl::InternalError("the server sent too few observations");
      }
      if (absl::Status s =
              learners_[a]->Act(obs[a].data(), masks[a].get(), rows,
                                deterministic, env->discrete_actions(a).data(),
                                env->continuous_actions(a).data());
          !s.ok()) {
        return s;
      }
    }
    return absl::OkStatus();
  }

  absl::Status CheckTimeStep(const proto::TimeStep& ts, int rows) {
    if (ts.agents_size() != num_agents_ || ts.terminated_size() != rows ||
        ts.truncated_size() != rows) {
      return absl::InternalError(
          "the server's TimeStep does not match the spec");
    }
    for (int a = 0; a < num_agents_; ++a) {
      if (ts.agents(a).reward_size() != rows) {
        return absl::InternalError(
            "the server's TimeStep has the wrong number of rewards");
      }
    }
    return absl::OkStatus();
  }

  absl::Status Train() {
    const int n = o_.num_copies;
    const EnvSpec& spec = env_->spec();
    absl::StatusOr<const proto::TimeStep*> reset = env_->Reset();
    if (!reset.ok()) return reset.status();
    CopyObservations(**reset, n, &obs_, &masks_);
    initial_obs_.resize(num_agents_);
    for (int a = 0; a < num_agents_; ++a) {
      const int64_t size = spec.observation_spaces[a].FlatSize();
      initial_obs_[a].assign(obs_[a].begin(), obs_[a].begin() + size);
    }
    returns_.assign(static_cast<size_t>(n) * num_agents_, 0.0);
    window_.assign(num_agents_, {});
    since_log_sum_.assign(num_agents_, 0.0);
    since_log_count_ = 0;

    const int64_t batches = (o_.steps + n - 1) / n;
    const Clock::time_point start = Clock::now();
    Clock::time_point last_progress = start, last_log = start;
    int64_t progress_transitions = 0, log_transitions = 0;
    int64_t next_log = o_.log_every, next_eval = o_.eval_every,
            next_checkpoint = o_.checkpoint_every;
    double eval_seconds = 0;

    for (int64_t batch = 0; batch < batches; ++batch) {
      if (absl::Status s = ActAll(env_.get(), n, obs_, masks_, false);
          !s.ok()) {
        return s;
      }
      absl::StatusOr<const proto::TimeStep*> stepped = env_->Step();
      if (!stepped.ok()) return stepped.status();
      const proto::TimeStep& ts = **stepped;
      if (absl::Status s = CheckTimeStep(ts, n); !s.ok()) return s;
      // Row -> index into the final_* arrays for auto-reset copies, whose
      // `observation` already starts the next episode.
      final_index_.assign(n, -1);
      for (int k = 0; k < ts.final_rows_size(); ++k) {
        final_index_[ts.final_rows(k)] = k;
      }
      for (int a = 0; a < num_agents_; ++a) {
        const auto& agent = ts.agents(a);
        const int64_t obs_size = spec.observation_spaces[a].FlatSize();
        const int64_t act_size = spec.action_spaces[a].FlatSize();
        for (int r = 0; r < n; ++r) {
          const float* next = final_index_[r] >= 0
                                  ? agent.final_observation().data() +
                                        final_index_[r] * obs_size
                                  : agent.observation().data() + r * obs_size;
          // Only the agent's own action kind is filled; the other is null.
          const int64_t* discrete =
              spec.action_spaces[a].is_box()
                  ? nullptr
                  : env_->discrete_actions(a).data() + r * act_size;
          const float* continuous =
              spec.action_spaces[a].is_box()
                  ? env_->continuous_actions(a).data() + r * act_size
                  : nullptr;
          if (absl::Status s = learners_[a]->Observe(
                  obs_[a].data() + r * obs_size, discrete, continuous,
                  agent.reward(r), next, ts.terminated(r));
              !s.ok()) {
            return s;
          }
          returns_[r * num_agents_ + a] += agent.reward(r);
        }
      }
      for (int r = 0; r < n; ++r) {
        if (!ts.terminated(r) && !ts.truncated(r)) continue;
        ++episodes_;
        ++since_log_count_;
        for (int a = 0; a < num_agents_; ++a) {
          double& ret = returns_[r * num_agents_ + a];
          window_[a].push_back(ret);
          if (static_cast<int>(window_[a].size()) > o_.return_window) {
            window_[a].pop_front();
          }
          since_log_sum_[a] += ret;
          ret = 0;
        }
      }
      CopyObservations(ts, n, &obs_, &masks_);
      for (auto& learner : learners_) learner->Train();
      transitions_ += n;

      const Clock::time_point now = Clock::now();
      train_seconds_ = Seconds(start, now) - eval_seconds;
      if (o_.log_every > 0 && transitions_ >= next_log) {
        while (next_log <= transitions_) next_log += o_.log_every;
        const double rate = (transitions_ - log_transitions) /
                            std::max(1e-9, Seconds(last_log, now));
        if (absl::Status s = LogTrain(rate); !s.ok()) return s;
        last_log = now;
        log_transitions = transitions_;
      }
      if (o_.progress != nullptr &&
          Seconds(last_progress, now) >= o_.progress_seconds) {
        const double rate =
            (transitions_ - progress_transitions) / Seconds(last_progress, now);
        PrintProgress(rate, (batches * n - transitions_) / rate);
        last_progress = now;
        progress_transitions = transitions_;
      }
      if (o_.eval_every > 0 && transitions_ >= next_eval &&
          batch + 1 < batches) {
        while (next_eval <= transitions_) next_eval += o_.eval_every;
        const Clock::time_point eval_start = Clock::now();
        absl::StatusOr<std::vector<double>> r = Evaluate();
        if (!r.ok()) return r.status();
        eval_seconds += Seconds(eval_start, Clock::now());
      }
      if (o_.checkpoint_every > 0 && transitions_ >= next_checkpoint &&
          batch + 1 < batches) {
        while (next_checkpoint <= transitions_) {
          next_checkpoint += o_.checkpoint_every;
        }
        if (absl::Status s =
                SaveCheckpoint(absl::StrCat("step_", transitions_));
            !s.ok()) {
          return s;
        }
      }
    }
    train_seconds_ = Seconds(start, Clock::now()) - eval_seconds;
    if (o_.log_every > 0 && since_log_count_ > 0) {
      if (absl::Status s =
              LogTrain(transitions_ / std::max(1e-9, train_seconds_));
          !s.ok()) {
        return s;
      }
    }
    return absl::OkStatus();
  }

  absl::Status LogTrain(double rate) {
    for (int a = 0; a < num_agents_; ++a) {
      Values values;
      if (since_log_count_ > 0) {
        // The mean over the episodes that ended since the last record.
        values.push_back(
            {"episode_return", since_log_sum_[a] / since_log_count_});
      }
      if (absl::Status s =
              learners_[a]->Metrics(initial_obs_[a].data(), &values);
          !s.ok()) {
        return s;
      }
      writer_->Log("train", transitions_, episodes_, ids_[a], values);
      since_log_sum_[a] = 0;
    }
    since_log_count_ = 0;
    writer_->Log("train", transitions_, episodes_, "",
                 {{"steps_per_second", rate}});
    return absl::OkStatus();
  }

  std::vector<double> WindowMeans() const {
    std::vector<double> means(num_agents_, std::nan(""));
    for (int a = 0; a < num_agents_; ++a) {
      if (window_[a].empty()) continue;
      double sum = 0;
      for (double r : window_[a]) sum += r;
      means[a] = sum / window_[a].size();
    }
    return means;
  }

  void PrintProgress(double rate, double eta_seconds) {
    const int64_t total =
        (o_.steps + o_.num_copies - 1) / o_.num_copies * o_.num_copies;
    *o_.progress << absl::StrFormat(
                        "[independent] step %d/%d (%.0f%%)  %.0f steps/s  "
                        "return (last %d) %s  ETA %s",
                        transitions_, total,
                        100.0 * transitions_ / std::max<int64_t>(1, total),
                        rate, o_.return_window, ValuesLine(ids_, WindowMeans()),
                        FormatDuration(eta_seconds))
                 << std::endl;
  }

  // Greedy / deterministic policies for eval_episodes episodes on the
  // evaluation handle: each round resets every evaluation copy and counts
  // each copy's first episode. Logs phase "eval" records.
  absl::StatusOr<std::vector<double>> Evaluate() {
    const int copies = eval_env_->num_copies();
    const EnvSpec& spec = eval_env_->spec();
    const int max_steps =
        spec.episode_limit > 0 ? spec.episode_limit : kMaxEvalSteps;
    std::vector<double> sum(num_agents_, 0.0), sum_sq(num_agents_, 0.0);
    std::vector<double> ret(static_cast<size_t>(copies) * num_agents_);
    std::vector<char> done(copies);
    std::vector<std::vector<float>> obs;
    std::vector<std::unique_ptr<bool[]>> masks;
    int collected = 0, cut = 0;
    while (collected < o_.eval_episodes) {
      absl::StatusOr<const proto::TimeStep*> reset = eval_env_->Reset();
      if (!reset.ok()) return reset.status();
      CopyObservations(**reset, copies, &obs, &masks);
      if (initial_obs_.empty()) {  // eval mode: no training reset happened
        initial_obs_.resize(num_agents_);
        for (int a = 0; a < num_agents_; ++a) {
          const int64_t size = spec.observation_spaces[a].FlatSize();
          initial_obs_[a].assign(obs[a].begin(), obs[a].begin() + size);
        }
      }
      std::fill(ret.begin(), ret.end(), 0.0);
      std::fill(done.begin(), done.end(), 0);
      int finished = 0;
      for (int t = 0; t < max_steps && finished < copies; ++t) {
        if (absl::Status s = ActAll(eval_env_.get(), copies, obs, masks, true);
            !s.ok()) {
          return s;
        }
        absl::StatusOr<const proto::TimeStep*> stepped = eval_env_->Step();
        if (!stepped.ok()) return stepped.status();
        const proto::TimeStep& ts = **stepped;
        if (absl::Status s = CheckTimeStep(ts, copies); !s.ok()) return s;
        for (int r = 0; r < copies; ++r) {
          if (done[r]) continue;  // auto-reset copies play on, uncounted
          for (int a = 0; a < num_agents_; ++a) {
            ret[r * num_agents_ + a] += ts.agents(a).reward(r);
          }
          if (ts.terminated(r) || ts.truncated(r)) {
            done[r] = 1;
            ++finished;
          }
        }
        CopyObservations(ts, copies, &obs, &masks);
      }
      const int take = std::min(copies, o_.eval_episodes - collected);
      for (int r = 0; r < take; ++r) {
        if (!done[r]) ++cut;
        for (int a = 0; a < num_agents_; ++a) {
          const double x = ret[r * num_agents_ + a];
          sum[a] += x;
          sum_sq[a] += x * x;
        }
      }
      collected += take;
    }
    if (cut > 0 && o_.progress != nullptr) {
      *o_.progress << "[independent] warning: " << cut
                   << " evaluation episodes did not end within " << max_steps
                   << " steps; their partial returns were counted" << std::endl;
    }
    std::vector<double> means(num_agents_);
    for (int a = 0; a < num_agents_; ++a) {
      means[a] = sum[a] / collected;
      const double var =
          std::max(0.0, sum_sq[a] / collected - means[a] * means[a]);
      Values values = {{"eval_return", means[a]},
                       {"eval_return_std", std::sqrt(var)}};
      absl::StatusOr<std::vector<double>> greedy =
          learners_[a]->GreedyAction(initial_obs_[a].data());
      if (!greedy.ok()) return greedy.status();
      for (size_t k = 0; k < greedy->size() && k < 8; ++k) {
        values.push_back({greedy->size() == 1
                              ? std::string("greedy_action")
                              : absl::StrCat("greedy_action_", k),
                          (*greedy)[k]});
      }
      writer_->Log("eval", transitions_, episodes_, ids_[a], values);
    }
    if (o_.progress != nullptr) {
      *o_.progress << "[independent] eval at step " << transitions_ << " ("
                   << collected << " episodes): " << ValuesLine(ids_, means)
                   << std::endl;
    }
    return means;
  }

  absl::Status SaveCheckpoint(const std::string& name) {
    std::vector<std::string> kinds, blobs;
    for (const auto& learner : learners_) {
      absl::StatusOr<std::string> bytes = learner->Save();
      if (!bytes.ok()) return bytes.status();
      kinds.push_back(learner->kind());
      blobs.push_back(*std::move(bytes));
    }
    return writer_->SaveCheckpoint(name, PackCheckpoint(ids_, kinds, blobs));
  }

  const IndependentOptions& o_;
  std::unique_ptr<EnvClient> client_;
  // Declared after the client: handles close before the client goes.
  std::unique_ptr<RemoteEnv> env_, eval_env_;
  std::unique_ptr<RunWriter> writer_;
  int num_agents_ = 0;
  std::vector<std::string> ids_;
  std::vector<std::unique_ptr<AgentLearner>> learners_;

  std::vector<std::vector<float>> obs_;          // per agent, rows
  std::vector<std::unique_ptr<bool[]>> masks_;   // per agent or null
  std::vector<std::vector<float>> initial_obs_;  // per agent, copy 0
  std::vector<int> final_index_;
  std::vector<double> returns_;             // [copy][agent]
  std::vector<std::deque<double>> window_;  // per agent
  std::vector<double> since_log_sum_;
  int64_t since_log_count_ = 0;
  int64_t transitions_ = 0;
  int64_t episodes_ = 0;
  double train_seconds_ = 0;
};

}  // namespace

absl::StatusOr<IndependentResult> RunIndependent(
    const IndependentOptions& options) {
  Runner runner(options);
  return runner.Run();
}

std::string FormatIndependentResult(const IndependentResult& result) {
  std::string out = "Independent learners: result\n";
  std::vector<std::string> joint;
  for (const IndependentAgentResult& agent : result.agents) {
    std::vector<std::string> action;
    for (double x : agent.greedy_action) {
      action.push_back(absl::StrFormat("%g", x));
    }
    const std::string a =
        action.size() == 1 ? action[0]
                           : absl::StrCat("[", absl::StrJoin(action, ","), "]");
    joint.push_back(a);
    absl::StrAppendFormat(&out,
                          "  %-12s (%s)  final eval return %.4f  greedy "
                          "action %s\n",
                          agent.id, agent.learner, agent.eval_return, a);
  }
  absl::StrAppend(&out, "  greedy joint action: (", absl::StrJoin(joint, ", "),
                  ")\n");
  absl::StrAppendFormat(&out,
                        "  trained %d steps, %d episodes in %.2fs (%.0f "
                        "steps/s)\n",
                        result.steps, result.episodes, result.train_seconds,
                        result.steps_per_second);
  absl::StrAppend(&out, "  run directory: ", result.run_directory, "\n");
  return out;
}

}  // namespace marl
