#include "learners/pair_tabular_learner.h"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "learners/soft_math.h"
#include "runtime/json.h"
#include "runtime/learner_state.h"
#include "runtime/observation_encoder.h"

namespace marl {
namespace {

// Probabilities are logged for tables up to this many states.
constexpr int64_t kMaxLoggedStates = 8;

}  // namespace

absl::Status PairTabularLearner::CheckSpec(const EnvSpec& spec,
                                           const std::string& algorithm) {
  if (spec.num_agents() != 2) {
    return absl::InvalidArgumentError(
        absl::StrCat(algorithm, " is for two-player games; this one has ",
                     spec.num_agents(), " agents"));
  }
  for (int a = 0; a < 2; ++a) {
    const Space& obs = spec.observation_spaces[a];
    const Space& act = spec.action_spaces[a];
    if (!obs.is_discrete() || !act.is_discrete()) {
      return absl::InvalidArgumentError(absl::StrCat(
          algorithm, " needs Discrete observations and actions; agent ",
          spec.agent_ids[a], " has observation ", obs.DebugString(),
          " and action ", act.DebugString()));
    }
  }
  if (spec.observation_spaces[0].n != spec.observation_spaces[1].n) {
    return absl::InvalidArgumentError(
        absl::StrCat(algorithm, " needs both agents to see the same state"));
  }
  const int64_t entries = spec.observation_spaces[0].n *
                          spec.action_spaces[0].n * spec.action_spaces[1].n;
  if (entries > 10'000'000) {
    return absl::InvalidArgumentError(
        absl::StrCat(algorithm, ": a joint-action table of ", entries,
                     " entries is too large for a tabular learner"));
  }
  return absl::OkStatus();
}

PairTabularLearner::PairTabularLearner(const EnvSpec& spec,
                                       const PairTabularOptions& options,
                                       uint64_t seed, std::string algorithm,
                                       std::string extra_config_json)
    : options_(options),
      algorithm_(std::move(algorithm)),
      extra_config_json_(std::move(extra_config_json)),
      agent_ids_(spec.agent_ids),
      num_states_(spec.observation_spaces[0].n),
      n_{spec.action_spaces[0].n, spec.action_spaces[1].n},
      rng_(seed) {
  for (int i = 0; i < 2; ++i) {
    q_[i].assign(static_cast<size_t>(num_states_ * n_[0] * n_[1]), 0.0);
    prior_[i].assign(static_cast<size_t>(num_states_ * n_[1 - i]),
                     1.0 / n_[1 - i]);
  }
}

void PairTabularLearner::set_prior(int agent, int64_t s,
                                   const std::vector<double>& p) {
  std::copy(p.begin(), p.end(), prior_[agent].begin() + s * n_[1 - agent]);
}

absl::StatusOr<int64_t> PairTabularLearner::State(int agent,
                                                  float value) const {
  return DiscreteIndex(value, num_states_, agent_ids_[agent]);
}

int64_t PairTabularLearner::Greedy(int agent, int64_t s, double t) const {
  std::vector<double> p;
  Policy(agent, s, t, &p);
  return ArgMax(p.data(), nullptr, n_[agent]);
}

void PairTabularLearner::Act(const std::vector<const float*>& observation,
                             int num_copies, bool deterministic,
                             std::vector<std::vector<int64_t>>* discrete,
                             std::vector<std::vector<float>>* continuous) {
  if (!status_.ok()) return;
  const double t = temperature();
  const bool greedy = deterministic && !options_.sample_in_evaluation;
  for (int i = 0; i < 2; ++i) {
    for (int r = 0; r < num_copies; ++r) {
      absl::StatusOr<int64_t> s = State(i, observation[i][r]);
      if (!s.ok()) return Fail(s.status());
      if (first_state_ < 0) first_state_ = *s;
      if (i == options_.fixed_uniform_agent) {
        (*discrete)[i][r] =
            std::uniform_int_distribution<int64_t>(0, n_[i] - 1)(rng_);
      } else if (greedy) {
        (*discrete)[i][r] = Greedy(i, *s, t);
      } else {
        Policy(i, *s, t, &scratch_);
        (*discrete)[i][r] = SampleIndex(scratch_.data(), n_[i], &rng_);
      }
    }
  }
}

void PairTabularLearner::Learn(const TransitionBatch& batch) {
  if (!status_.ok()) return;
  if (options_.iteration_updates) return LearnIteration(batch);
  for (int r = 0; r < batch.num_copies; ++r) {
    const double t = temperature();
    const int64_t acts[2] = {batch.discrete_action[0][r],
                             batch.discrete_action[1][r]};
    for (int i = 0; i < 2; ++i) {
      if (i == options_.fixed_uniform_agent) continue;
      absl::StatusOr<int64_t> s = State(i, batch.observation[i][r]);
      if (!s.ok()) return Fail(s.status());
      absl::StatusOr<int64_t> next = State(i, batch.next_observation[i][r]);
      if (!next.ok()) return Fail(next.status());
      const int64_t a = acts[i], b = acts[1 - i];
      const double bootstrap =
          batch.terminated[r] ? 0.0 : options_.gamma * Value(i, *next, t);
      double& q = q_[i][(*s * n_[i] + a) * n_[1 - i] + b];
      const double td = batch.reward[i][r] + bootstrap - q;
      q += options_.learning_rate * td;
      td_squared_[i] += td * td;
      ++td_count_[i];
      UpdatePrior(i, *s, b);
    }
    ++step_;
  }
}

void PairTabularLearner::UpdatePrior(int agent, int64_t s, int64_t b) {
  // The opponent-policy estimate moves towards the observed action.
  if (options_.prior_rate <= 0) return;
  double* p = &prior_[agent][s * n_[1 - agent]];
  for (int64_t k = 0; k < n_[1 - agent]; ++k) {
    p[k] += options_.prior_rate * ((k == b ? 1.0 : 0.0) - p[k]);
  }
}

void PairTabularLearner::LearnIteration(const TransitionBatch& batch) {
  // Every target uses the tables as they were at the start of the
  // iteration: the copies are simultaneous roll-outs of one policy.
  const double t = temperature();
  std::vector<std::pair<int64_t, double>> targets;  // (entry, target)
  for (int i = 0; i < 2; ++i) {
    if (i == options_.fixed_uniform_agent) continue;
    targets.clear();
    for (int r = 0; r < batch.num_copies; ++r) {
      absl::StatusOr<int64_t> s = State(i, batch.observation[i][r]);
      if (!s.ok()) return Fail(s.status());
      absl::StatusOr<int64_t> next = State(i, batch.next_observation[i][r]);
      if (!next.ok()) return Fail(next.status());
      const int64_t a = batch.discrete_action[i][r];
      const int64_t b = batch.discrete_action[1 - i][r];
      const double bootstrap =
          batch.terminated[r] ? 0.0 : options_.gamma * Value(i, *next, t);
      targets.push_back(
          {(*s * n_[i] + a) * n_[1 - i] + b, batch.reward[i][r] + bootstrap});
    }
    // Group by entry (stable: equal entries keep copy order, so the sums
    // and thus runs repeat exactly).
    std::stable_sort(
        targets.begin(), targets.end(),
        [](const auto& x, const auto& y) { return x.first < y.first; });
    for (size_t k = 0; k < targets.size();) {
      size_t end = k;
      double sum = 0;
      for (; end < targets.size() && targets[end].first == targets[k].first;
           ++end) {
        sum += targets[end].second;
      }
      double& q = q_[i][targets[k].first];
      const double td = sum / static_cast<double>(end - k) - q;
      q += options_.learning_rate * td;
      td_squared_[i] += td * td;
      ++td_count_[i];
      k = end;
    }
    for (int r = 0; r < batch.num_copies; ++r) {
      const int64_t s = std::llround(batch.observation[i][r]);
      UpdatePrior(i, s, batch.discrete_action[1 - i][r]);
    }
  }
  ++step_;
}

std::vector<std::pair<std::string, double>> PairTabularLearner::Metrics(
    int agent) const {
  std::vector<std::pair<std::string, double>> values;
  if (td_count_[agent] > 0) {
    values.push_back({"loss_q", td_squared_[agent] / td_count_[agent]});
  }
  td_squared_[agent] = 0;
  td_count_[agent] = 0;
  const double t = temperature();
  values.push_back({"temperature", t});
  std::vector<double> p;
  const int64_t first = first_state_ < 0 ? 0 : first_state_;
  Policy(agent, first, t, &p);
  double entropy = 0;
  for (double x : p) entropy -= x > 0 ? x * std::log(x) : 0.0;
  values.push_back({"entropy", entropy});
  if (num_states_ <= kMaxLoggedStates) {
    // prob_a<k> for one-state games (matrix games); prob_s<s>_a<k> else.
    for (int64_t s = 0; s < num_states_; ++s) {
      const std::string prefix =
          num_states_ == 1 ? "" : absl::StrCat("s", s, "_");
      Policy(agent, s, t, &p);
      for (int64_t k = 0; k < n_[agent]; ++k) {
        values.push_back({absl::StrCat("prob_", prefix, "a", k), p[k]});
      }
      OpponentModel(agent, s, t, &p);
      for (int64_t k = 0; k < n_[1 - agent]; ++k) {
        values.push_back(
            {absl::StrCat("opponent_model_", prefix, "a", k), p[k]});
      }
      for (int64_t k = 0; k < n_[1 - agent]; ++k) {
        values.push_back({absl::StrCat("opponent_prior_", prefix, "a", k),
                          prior(agent, s)[k]});
      }
    }
  }
  values.push_back({"greedy_action", double(Greedy(agent, first, t))});
  return values;
}

absl::StatusOr<std::string> PairTabularLearner::Save() const {
  return LearnerStateWriter(algorithm_, {num_states_, n_[0], n_[1]})
      .Doubles("q0", q_[0])
      .Doubles("prior0", prior_[0])
      .Doubles("q1", q_[1])
      .Doubles("prior1", prior_[1])
      .Ints("step", {step_})
      .Engine("rng", rng_)
      .Finish();
}

absl::Status PairTabularLearner::Load(const std::string& bytes) {
  absl::StatusOr<LearnerStateReader> reader =
      LearnerStateReader::Open(bytes, algorithm_, {num_states_, n_[0], n_[1]});
  if (!reader.ok()) {
    return absl::Status(reader.status().code(),
                        absl::StrCat(reader.status().message(),
                                     " (states x actions x actions)"));
  }
  std::vector<double> q[2], prior[2];
  std::vector<int64_t> step;
  std::mt19937_64 rng;
  absl::Status s;
  for (int i = 0; i < 2 && s.ok(); ++i) {
    s = reader->Doubles(absl::StrCat("q", i),
                        static_cast<int64_t>(q_[i].size()), &q[i]);
    if (s.ok()) {
      s = reader->Doubles(absl::StrCat("prior", i),
                          static_cast<int64_t>(prior_[i].size()), &prior[i]);
    }
  }
  if (s.ok()) s = reader->Ints("step", 1, &step);
  if (s.ok()) s = reader->Engine("rng", &rng);
  if (s.ok() && step[0] < 0) {
    s = absl::DataLossError(
        absl::StrCat(algorithm_, " checkpoint: a negative step count"));
  }
  if (!s.ok()) return s;
  for (int i = 0; i < 2; ++i) {
    q_[i] = std::move(q[i]);
    prior_[i] = std::move(prior[i]);
  }
  step_ = step[0];
  rng_ = rng;
  return absl::OkStatus();
}

std::string PairTabularLearner::ConfigJson() const {
  JsonObject o;
  o.Add("algorithm", algorithm_)
      .Add("learning_rate", options_.learning_rate)
      .Add("gamma", options_.gamma)
      .Add("prior_rate", options_.prior_rate)
      .Add("iteration_updates", options_.iteration_updates)
      .Add("fixed_uniform_agent", options_.fixed_uniform_agent)
      .Add("sample_in_evaluation", options_.sample_in_evaluation)
      .AddRaw("temperature", options_.temperature.ToJson());
  if (!extra_config_json_.empty()) o.AddRaw("extra", extra_config_json_);
  return o.Build();
}

}  // namespace marl
