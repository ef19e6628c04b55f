#ifndef MARL_LEARNERS_SOFT_Q_LEARNER_H_
#define MARL_LEARNERS_SOFT_Q_LEARNER_H_

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "runtime/params.h"

namespace marl {

// Soft Q-learning's hyperparameters (runtime/params.h), prefixed: one binary
// hosts both independent learners. Temperature schedule: alpha_t =
// max(alpha_min, alpha * alpha_decay^t), t = transitions learned so far (so
// the schedule does not depend on how many copies the experience came from).
#define MARL_SOFT_Q_PARAMS(P)                                              \
  P(double, soft_q_lr, 0.1, (InRange(1e-12, 1)),                           \
    "soft_q: learning rate of the table update.")                          \
  P(double, soft_q_alpha, 1.0, Positive(),                                 \
    "soft_q: initial temperature alpha0 of pi(a|s) ∝ exp(Q(s,a)/alpha).")  \
  P(double, soft_q_alpha_min, 0.05, Positive(),                            \
    "soft_q: temperature floor: alpha_t = max(alpha_min, alpha0 * "        \
    "decay^t).")                                                           \
  P(double, soft_q_alpha_decay, 0.999, (InRange(1e-12, 1)),                \
    "soft_q: temperature decay per transition the agent learns from (1 = " \
    "constant temperature).")                                              \
  P(int64_t, soft_q_max_observations, 65536, (InRange(1, 1 << 24)),        \
    "soft_q: the most distinct observations a table over Box "             \
    "observations holds (--learner=soft_q on a Box observation numbers "   \
    "each distinct observation it meets; a run that meets more ends with " \
    "an error).")

struct SoftQOptions {
  MARL_PARAMS(MARL_SOFT_Q_PARAMS)
  // The binary's --gamma (shared with sac), set by its learner.
  double gamma = 0.95;
  double initial_q = 0.0;
};

// Tabular soft (maximum-entropy) Q-learning for one agent with Discrete
// observations and Discrete actions:
//   pi(a|s) ∝ exp(Q(s,a)/alpha),  V(s) = alpha * logsumexp(Q(s,.)/alpha),
//   Q(s,a) += lr * (r + gamma * (1 - terminated) * V(s') - Q(s,a)).
// Owns its random engine, so it is deterministic given its seed.
class SoftQLearner {
 public:
  // INVALID_ARGUMENT for empty tables or nonsensical options.
  static absl::StatusOr<SoftQLearner> Create(int64_t num_observations,
                                             int64_t num_actions,
                                             const SoftQOptions& options,
                                             uint64_t seed);

  int64_t num_observations() const { return num_observations_; }
  int64_t num_actions() const { return num_actions_; }
  const SoftQOptions& options() const { return options_; }

  // Temperature of the schedule after `t` transitions.
  static double ScheduledTemperature(const SoftQOptions& options, int64_t t);
  // The current temperature (after schedule_step() transitions).
  double temperature() const;
  int64_t schedule_step() const { return step_; }

  double q(int64_t obs, int64_t action) const {
    return q_[obs * num_actions_ + action];
  }
  void set_q(int64_t obs, int64_t action, double value) {
    q_[obs * num_actions_ + action] = value;
  }

  // pi(.|obs) at the current temperature (or at `alpha`), written to
  // `probs` (num_actions). A mask (num_actions bools, true = legal; null =
  // all legal) zeroes illegal actions and renormalises over the rest.
  void Probabilities(int64_t obs, std::vector<double>* probs,
                     const bool* mask = nullptr) const;
  void ProbabilitiesAt(int64_t obs, double alpha, std::vector<double>* probs,
                       const bool* mask = nullptr) const;
  // alpha * logsumexp(Q(obs,.)/alpha) at the current temperature.
  double SoftValue(int64_t obs) const;

  // Samples from pi(.|obs) with the learner's own engine.
  int64_t Sample(int64_t obs, const bool* mask = nullptr);
  // argmax_a Q(obs, a) (lowest index on ties): the deterministic policy
  // used for evaluation.
  int64_t Greedy(int64_t obs, const bool* mask = nullptr) const;

  // One soft Q-learning update with the current temperature, then advances
  // the temperature schedule by one transition. Returns the TD error
  // (target - Q before the update).
  double Update(int64_t obs, int64_t action, double reward, int64_t next_obs,
                bool terminated);
  // The same with the bootstrap's discount given: the target is
  // reward + discount * V(next_obs) (a turn-based agent's transition spans
  // several steps: discount = gamma^steps, or 0 at the episode's end).
  double UpdateDiscounted(int64_t obs, int64_t action, double reward,
                          int64_t next_obs, double discount);

  // The table, schedule step and random engine as a learner state
  // (runtime/learner_state.h; options come from flags, not checkpoints).
  // Restore refuses another table shape (INVALID_ARGUMENT) and bytes that
  // are not a whole state (DATA_LOSS), changing nothing.
  std::string Serialize() const;
  absl::Status Restore(const std::string& bytes);

 private:
  SoftQLearner(int64_t num_observations, int64_t num_actions,
               const SoftQOptions& options, uint64_t seed);

  int64_t num_observations_;
  int64_t num_actions_;
  SoftQOptions options_;
  std::vector<double> q_;  // [obs][action], row-major
  int64_t step_ = 0;
  std::mt19937_64 rng_;
  std::vector<double> scratch_;  // probabilities for Sample
};

}  // namespace marl

#endif  // MARL_LEARNERS_SOFT_Q_LEARNER_H_
