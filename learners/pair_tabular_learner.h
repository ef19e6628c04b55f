#ifndef MARL_LEARNERS_PAIR_TABULAR_LEARNER_H_
#define MARL_LEARNERS_PAIR_TABULAR_LEARNER_H_

#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "envs/core/env_spec.h"
#include "learners/temperature_schedule.h"
#include "runtime/joint_learner.h"

namespace marl {

struct PairTabularOptions {
  double learning_rate = 0.1;  // of Q(s, a^i, a^-i)
  double gamma = 0.95;
  // Rate of the running estimate of the opponent's policy P(a^-i | s)
  // from its observed actions (the prior of the opponent model); 0 keeps
  // it uniform.
  double prior_rate = 0.002;
  TemperatureSchedule temperature =
      TemperatureSchedule::Exponential(1.0, 0.999, 0.3);
  // false: every copy of a batch is one transition, learned in turn, and
  // the schedule's step counts transitions. true (Balancing-Q's Algorithm
  // 1): a batch is one iteration whose copies are its roll-outs; every
  // visited entry Q(s,a,b) moves once, by learning_rate, towards the mean
  // target of the copies that visited it, and the step counts iterations.
  bool iteration_updates = false;
  // An agent (0 or 1) that plays uniformly at random, in training and
  // evaluation, and never learns: a fixed opponent. -1 = both learn.
  int fixed_uniform_agent = -1;
  // Evaluation (deterministic) actions are sampled from the policy instead
  // of its argmax.
  bool sample_in_evaluation = false;
};

// Two agents with Discrete observations and actions, each holding a table
// Q^i(s, a^i, a^-i) over the joint action (own action first) learned from
// the observed joint action and its own reward:
//   Q^i(s,a,b) += lr * (r^i + gamma * (1 - terminated) * V^i(s') - Q^i),
// and an estimate P^i(b | s) of the opponent's policy. Subclasses say how
// an agent turns that into a policy (PR2-Q, ROMMEO-Q, Balancing-Q). Both
// agents learn (or one plays uniformly, see fixed_uniform_agent); the
// temperature follows a schedule over the transitions (or iterations)
// learned.
class PairTabularLearner : public JointLearner {
 public:
  void Act(const std::vector<const float*>& observation, int num_copies,
           bool deterministic, std::vector<std::vector<int64_t>>* discrete,
           std::vector<std::vector<float>>* continuous) override;
  void Learn(const TransitionBatch& batch) override;
  std::vector<std::pair<std::string, double>> Metrics(int agent) const override;
  absl::StatusOr<std::string> Save() const override;
  absl::Status Load(const std::string& bytes) override;
  absl::Status status() const override { return status_; }
  std::string ConfigJson() const override;

  int64_t num_states() const { return num_states_; }
  int64_t num_actions(int agent) const { return n_[agent]; }
  double temperature() const { return options_.temperature.At(step_); }
  // The agent that plays uniformly without learning, or -1.
  int fixed_uniform_agent() const { return options_.fixed_uniform_agent; }
  // Transitions learned, or iterations with options.iteration_updates.
  int64_t step() const { return step_; }

  // Q^i(s, a, b), own action a, opponent action b.
  double q(int agent, int64_t s, int64_t a, int64_t b) const {
    return q_[agent][(s * n_[agent] + a) * n_[1 - agent] + b];
  }
  void set_q(int agent, int64_t s, int64_t a, int64_t b, double v) {
    q_[agent][(s * n_[agent] + a) * n_[1 - agent] + b] = v;
  }
  // The opponent-policy estimate P^i(. | s) (n of the opponent entries).
  const double* prior(int agent, int64_t s) const {
    return &prior_[agent][s * n_[1 - agent]];
  }
  void set_prior(int agent, int64_t s, const std::vector<double>& p);

  // The agent's marginal policy pi^i(. | s) at temperature `t`.
  virtual void Policy(int agent, int64_t s, double t,
                      std::vector<double>* out) const = 0;
  // Its opponent model marginal rho^i(b | s) (for metrics).
  virtual void OpponentModel(int agent, int64_t s, double t,
                             std::vector<double>* out) const = 0;
  // V^i(s) for bootstrapping.
  virtual double Value(int agent, int64_t s, double t) const = 0;
  // The evaluation action; default argmax of Policy.
  virtual int64_t Greedy(int agent, int64_t s, double t) const;

 protected:
  // INVALID_ARGUMENT unless the spec has two agents with Discrete
  // observations and actions; `algorithm` names it in messages.
  static absl::Status CheckSpec(const EnvSpec& spec,
                                const std::string& algorithm);
  PairTabularLearner(const EnvSpec& spec, const PairTabularOptions& options,
                     uint64_t seed, std::string algorithm,
                     std::string extra_config_json);

  const PairTabularOptions options_;

 private:
  // The state a Discrete observation of `agent` stands for.
  absl::StatusOr<int64_t> State(int agent, float value) const;
  void LearnIteration(const TransitionBatch& batch);
  void UpdatePrior(int agent, int64_t s, int64_t b);
  void Fail(absl::Status s) {
    if (status_.ok()) status_ = std::move(s);
  }

  std::string algorithm_;
  std::string extra_config_json_;
  std::vector<std::string> agent_ids_;
  int64_t num_states_;
  int64_t n_[2];
  std::vector<double> q_[2];      // [s][own][opp]
  std::vector<double> prior_[2];  // [s][opp]
  int64_t step_ = 0;              // transitions learned (per agent)
  std::mt19937_64 rng_;
  absl::Status status_;
  int64_t first_state_ = -1;
  mutable double td_squared_[2] = {0, 0};
  mutable int64_t td_count_[2] = {0, 0};
  std::vector<double> scratch_;
};

}  // namespace marl

#endif  // MARL_LEARNERS_PAIR_TABULAR_LEARNER_H_
