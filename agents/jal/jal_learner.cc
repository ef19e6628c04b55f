#include "agents/jal/jal_learner.h"

#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "learners/soft_math.h"
#include "runtime/json.h"
#include "runtime/learner_state.h"
#include "runtime/observation_encoder.h"

namespace marl {
namespace {

class JalLearner : public JointLearner {
 public:
  JalLearner(const EnvSpec& spec, const JalOptions& options, uint64_t seed)
      : options_(options),
        spec_(spec),
        states_(spec.observation_spaces[0].n),
        rng_(seed) {
    for (int i = 0; i < 2; ++i) n_[i] = spec.action_spaces[i].n;
    for (int i = 0; i < 2; ++i) {
      q_[i].assign(states_ * n_[i] * n_[1 - i], 0.0);
      counts_[i].assign(states_ * n_[1 - i], options.jal_prior_count);
    }
  }

  void Act(const std::vector<const float*>& observation, int num_copies,
           bool deterministic, std::vector<std::vector<int64_t>>* discrete,
           std::vector<std::vector<float>>* continuous) override {
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    std::vector<double> values;
    for (int i = 0; i < 2; ++i) {
      for (int c = 0; c < num_copies; ++c) {
        absl::StatusOr<int64_t> s = State(i, observation[i][c]);
        if (!s.ok()) return Fail(s.status());
        if (!deterministic && uniform(rng_) < options_.jal_epsilon) {
          (*discrete)[i][c] = static_cast<int64_t>(rng_() % n_[i]);
          continue;
        }
        ExpectedValues(i, *s, &values);
        (*discrete)[i][c] = ArgMax(values.data(), nullptr, n_[i]);
      }
    }
  }

  void Learn(const TransitionBatch& batch) override {
    std::vector<double> values;
    for (int c = 0; c < batch.num_copies; ++c) {
      const int64_t a[2] = {batch.discrete_action[0][c],
                            batch.discrete_action[1][c]};
      for (int i = 0; i < 2; ++i) {
        absl::StatusOr<int64_t> s = State(i, batch.observation[i][c]);
        absl::StatusOr<int64_t> next = State(i, batch.next_observation[i][c]);
        if (!s.ok() || !next.ok()) {
          return Fail(s.ok() ? next.status() : s.status());
        }
        // Fictitious play: the other's action counts towards the model.
        counts_[i][*s * n_[1 - i] + a[1 - i]] += 1.0;
        double bootstrap = 0.0;
        if (!batch.terminated[c]) {
          ExpectedValues(i, *next, &values);
          bootstrap = values[ArgMax(values.data(), nullptr, n_[i])];
        }
        double& q = q_[i][(*s * n_[i] + a[i]) * n_[1 - i] + a[1 - i]];
        q += options_.jal_lr *
             (batch.reward[i][c] + options_.jal_gamma * bootstrap - q);
      }
    }
  }

  // The model of the other agent at the first state, for small games.
  std::vector<std::pair<std::string, double>> Metrics(
      int agent) const override {
    std::vector<std::pair<std::string, double>> out;
    const int64_t m = n_[1 - agent];
    double total = 0.0;
    for (int64_t b = 0; b < m; ++b) total += counts_[agent][b];
    for (int64_t b = 0; b < m && b < 8; ++b) {
      out.push_back({absl::StrCat("model_b", b), counts_[agent][b] / total});
    }
    return out;
  }

  absl::StatusOr<std::string> Save() const override {
    return LearnerStateWriter("jal", {states_, n_[0], n_[1]})
        .Doubles("q0", q_[0])
        .Doubles("q1", q_[1])
        .Doubles("counts0", counts_[0])
        .Doubles("counts1", counts_[1])
        .Engine("rng", rng_)
        .Finish();
  }

  absl::Status Load(const std::string& bytes) override {
    absl::StatusOr<LearnerStateReader> reader =
        LearnerStateReader::Open(bytes, "jal", {states_, n_[0], n_[1]});
    if (!reader.ok()) return reader.status();
    std::vector<double> q[2], counts[2];
    std::mt19937_64 rng;
    absl::Status s;
    for (int i = 0; i < 2 && s.ok(); ++i) {
      s = reader->Doubles(absl::StrCat("q", i), q_[i].size(), &q[i]);
      if (s.ok()) {
        s = reader->Doubles(absl::StrCat("counts", i), counts_[i].size(),
                            &counts[i]);
      }
    }
    if (s.ok()) s = reader->Engine("rng", &rng);
    if (!s.ok()) return s;
    for (int i = 0; i < 2; ++i) {
      q_[i] = std::move(q[i]);
      counts_[i] = std::move(counts[i]);
    }
    rng_ = rng;
    return absl::OkStatus();
  }

  absl::Status status() const override { return status_; }

  std::string ConfigJson() const override {
    JsonObject config;
    config.Add("algorithm", "jal");
    return AddParams(options_, config).Build();
  }

 private:
  absl::StatusOr<int64_t> State(int agent, float observation) const {
    return DiscreteIndex(observation, states_, spec_.agent_ids[agent]);
  }

  // Sum over the other's actions b of model(b | s) Q(s, a, b), for each a.
  void ExpectedValues(int agent, int64_t s, std::vector<double>* out) const {
    const int64_t n = n_[agent], m = n_[1 - agent];
    const double* counts = counts_[agent].data() + s * m;
    double total = 0.0;
    for (int64_t b = 0; b < m; ++b) total += counts[b];
    out->assign(n, 0.0);
    for (int64_t a = 0; a < n; ++a) {
      for (int64_t b = 0; b < m; ++b) {
        (*out)[a] += counts[b] / total * q_[agent][(s * n + a) * m + b];
      }
    }
  }

  void Fail(absl::Status s) {
    if (status_.ok()) status_ = std::move(s);
  }

  JalOptions options_;
  EnvSpec spec_;
  int64_t states_;
  int64_t n_[2];
  std::vector<double> q_[2];       // [s][own action][other's action]
  std::vector<double> counts_[2];  // [s][other's action]
  std::mt19937_64 rng_;
  absl::Status status_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<JointLearner>> CreateJalLearner(
    const EnvSpec& spec, const JalOptions& options, uint64_t seed) {
  if (absl::Status s = ValidateParams(options); !s.ok()) return s;
  if (spec.num_agents() != 2) {
    return absl::InvalidArgumentError("jal is for two agents");
  }
  for (int i = 0; i < 2; ++i) {
    if (!spec.observation_spaces[i].is_discrete() ||
        !spec.action_spaces[i].is_discrete() ||
        spec.observation_spaces[i].n != spec.observation_spaces[0].n) {
      return absl::InvalidArgumentError(
          "jal needs Discrete actions and the same Discrete observation "
          "(the state) for both agents");
    }
  }
  return std::make_unique<JalLearner>(spec, options, seed);
}

}  // namespace marl
