#ifndef MARL_AGENTS_PR2_GRADIENT_ASCENT_LEARNER_H_
#define MARL_AGENTS_PR2_GRADIENT_ASCENT_LEARNER_H_

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "envs/core/env_spec.h"
#include "runtime/joint_learner.h"
#include "runtime/params.h"

namespace marl {

// Its hyperparameters (runtime/params.h); the PR2 comparison starts away
// from the mixed equilibrium.
#define MARL_GRADIENT_ASCENT_PARAMS(P)                                       \
  P(double, iga_step_size, 0.01, Positive(),                                 \
    "iga: gradient step per batched step.")                                  \
  P(Numbers, iga_initial_p0, Numbers("0.8,0.2"), AnyValue(),                 \
    "iga: starting probability of action 0 for each agent (the rest spread " \
    "evenly), comma-separated.")

struct GradientAscentOptions {
  MARL_PARAMS(MARL_GRADIENT_ASCENT_PARAMS)
};

// Naive independent gradient ascent (IGA, the PR2 paper's baseline) for a
// one-state two-player matrix game: each agent holds a mixed policy p^i
// and climbs its exact expected payoff p^i' R^i p^-i with the gradient
// R^i p^-i, projected back onto the simplex. R^i is the running mean of
// the rewards observed for each joint action (exact for deterministic
// games once every pair was played). Known to cycle around a mixed
// equilibrium instead of converging.
class GradientAscentLearner : public JointLearner {
 public:
  static absl::StatusOr<std::unique_ptr<GradientAscentLearner>> Create(
      const EnvSpec& spec, const GradientAscentOptions& options, uint64_t seed);

  const std::vector<double>& policy(int agent) const { return p_[agent]; }

  void Act(const std::vector<const float*>& observation, int num_copies,
           bool deterministic, std::vector<std::vector<int64_t>>* discrete,
           std::vector<std::vector<float>>* continuous) override;
  void Learn(const TransitionBatch& batch) override;
  std::vector<std::pair<std::string, double>> Metrics(int agent) const override;
  absl::StatusOr<std::string> Save() const override;
  absl::Status Load(const std::string& bytes) override;
  std::string ConfigJson() const override;

 private:
  GradientAscentLearner(const EnvSpec& spec,
                        const GradientAscentOptions& options, uint64_t seed);

  GradientAscentOptions options_;
  int64_t n_[2];
  std::vector<double> p_[2];
  std::vector<double> payoff_[2];  // [own][opp] running means
  std::vector<int64_t> count_;     // [a0][a1] times played
  std::mt19937_64 rng_;
};

// Euclidean projection of `v` onto the probability simplex.
void ProjectToSimplex(std::vector<double>* v);

}  // namespace marl

#endif  // MARL_AGENTS_PR2_GRADIENT_ASCENT_LEARNER_H_
