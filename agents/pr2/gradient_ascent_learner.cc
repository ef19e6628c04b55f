#include "agents/pr2/gradient_ascent_learner.h"

#include <algorithm>
#include <functional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "learners/soft_math.h"
#include "runtime/json.h"
#include "runtime/learner_state.h"

namespace marl {

void ProjectToSimplex(std::vector<double>* v) {
  std::vector<double> u = *v;
  std::sort(u.begin(), u.end(), std::greater<double>());
  double cumulative = 0, theta = 0;
  for (size_t k = 0; k < u.size(); ++k) {
    cumulative += u[k];
    const double t = (cumulative - 1.0) / (k + 1);
    if (u[k] - t > 0) theta = t;
  }
  for (double& x : *v) x = std::max(0.0, x - theta);
}

absl::StatusOr<std::unique_ptr<GradientAscentLearner>>
GradientAscentLearner::Create(const EnvSpec& spec,
                              const GradientAscentOptions& options,
                              uint64_t seed) {
  if (spec.num_agents() != 2) {
    return absl::InvalidArgumentError("iga is for two-player games");
  }
  for (int a = 0; a < 2; ++a) {
    if (!spec.action_spaces[a].is_discrete() ||
        !spec.observation_spaces[a].is_discrete() ||
        spec.observation_spaces[a].n != 1) {
      return absl::InvalidArgumentError(
          "iga needs a one-state game (Discrete(1) observations) with "
          "Discrete actions");
    }
  }
  if (options.iga_initial_p0.values.size() != 2) {
    return absl::InvalidArgumentError("--iga_initial_p0 needs two values");
  }
  for (double p : options.iga_initial_p0.values) {
    if (!(p >= 0 && p <= 1)) {
      return absl::InvalidArgumentError(
          "--iga_initial_p0 values must be in [0, 1]");
    }
  }
  if (absl::Status s = ValidateParams(options); !s.ok()) return s;
  return std::unique_ptr<GradientAscentLearner>(
      new GradientAscentLearner(spec, options, seed));
}

GradientAscentLearner::GradientAscentLearner(
    const EnvSpec& spec, const GradientAscentOptions& options, uint64_t seed)
    : options_(options),
      n_{spec.action_spaces[0].n, spec.action_spaces[1].n},
      rng_(seed) {
  for (int i = 0; i < 2; ++i) {
    const double p0 = options.iga_initial_p0.values[i];
    p_[i].assign(n_[i], n_[i] > 1 ? (1.0 - p0) / (n_[i] - 1) : 1.0);
    p_[i][0] = n_[i] > 1 ? p0 : 1.0;
    payoff_[i].assign(n_[0] * n_[1], 0.0);
  }
  count_.assign(n_[0] * n_[1], 0);
}

void GradientAscentLearner::Act(const std::vector<const float*>& observation,
                                int num_copies, bool deterministic,
                                std::vector<std::vector<int64_t>>* discrete,
                                std::vector<std::vector<float>>* continuous) {
  for (int i = 0; i < 2; ++i) {
    for (int r = 0; r < num_copies; ++r) {
      (*discrete)[i][r] = deterministic
                              ? ArgMax(p_[i].data(), nullptr, n_[i])
                              : SampleIndex(p_[i].data(), n_[i], &rng_);
    }
  }
}

void GradientAscentLearner::Learn(const TransitionBatch& batch) {
  for (int r = 0; r < batch.num_copies; ++r) {
    const int64_t a0 = batch.discrete_action[0][r];
    const int64_t a1 = batch.discrete_action[1][r];
    const int64_t cell = a0 * n_[1] + a1;
    ++count_[cell];
    // Own action first: agent 1's table is the transpose.
    payoff_[0][a0 * n_[1] + a1] +=
        (batch.reward[0][r] - payoff_[0][a0 * n_[1] + a1]) / count_[cell];
    payoff_[1][a1 * n_[0] + a0] +=
        (batch.reward[1][r] - payoff_[1][a1 * n_[0] + a0]) / count_[cell];
  }
  // Simultaneous exact gradient steps: d/dp^i (p^i' R^i p^-i) = R^i p^-i.
  std::vector<double> next[2];
  for (int i = 0; i < 2; ++i) {
    next[i] = p_[i];
    for (int64_t a = 0; a < n_[i]; ++a) {
      double g = 0;
      for (int64_t b = 0; b < n_[1 - i]; ++b) {
        g += payoff_[i][a * n_[1 - i] + b] * p_[1 - i][b];
      }
      next[i][a] += options_.iga_step_size * g;
    }
    ProjectToSimplex(&next[i]);
  }
  p_[0] = next[0];
  p_[1] = next[1];
}

std::vector<std::pair<std::string, double>> GradientAscentLearner::Metrics(
    int agent) const {
  std::vector<std::pair<std::string, double>> values;
  for (int64_t a = 0; a < n_[agent]; ++a) {
    values.push_back({absl::StrCat("prob_a", a), p_[agent][a]});
  }
  values.push_back(
      {"greedy_action", double(ArgMax(p_[agent].data(), nullptr, n_[agent]))});
  return values;
}

absl::StatusOr<std::string> GradientAscentLearner::Save() const {
  return LearnerStateWriter("iga", {n_[0], n_[1]})
      .Doubles("policy0", p_[0])
      .Doubles("payoff0", payoff_[0])
      .Doubles("policy1", p_[1])
      .Doubles("payoff1", payoff_[1])
      .Ints("counts", count_)
      .Engine("rng", rng_)
      .Finish();
}

absl::Status GradientAscentLearner::Load(const std::string& bytes) {
  absl::StatusOr<LearnerStateReader> reader =
      LearnerStateReader::Open(bytes, "iga", {n_[0], n_[1]});
  if (!reader.ok()) return reader.status();
  GradientAscentLearner copy = *this;
  absl::Status s;
  for (int i = 0; i < 2 && s.ok(); ++i) {
    s = reader->Doubles(absl::StrCat("policy", i),
                        static_cast<int64_t>(p_[i].size()), &copy.p_[i]);
    if (s.ok()) {
      s = reader->Doubles(absl::StrCat("payoff", i),
                          static_cast<int64_t>(payoff_[i].size()),
                          &copy.payoff_[i]);
    }
  }
  if (s.ok()) {
    s = reader->Ints("counts", static_cast<int64_t>(count_.size()),
                     &copy.count_);
  }
  if (s.ok()) s = reader->Engine("rng", &copy.rng_);
  if (!s.ok()) return s;
  *this = std::move(copy);
  return absl::OkStatus();
}

std::string GradientAscentLearner::ConfigJson() const {
  JsonObject json;
  json.Add("algorithm", "iga");
  return AddParams(options_, json).Build();
}

}  // namespace marl
