#include "learners/soft_q_learner.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "learners/soft_math.h"
#include "learners/temperature_schedule.h"
#include "runtime/learner_state.h"

namespace marl {

absl::StatusOr<SoftQLearner> SoftQLearner::Create(int64_t num_observations,
                                                  int64_t num_actions,
                                                  const SoftQOptions& options,
                                                  uint64_t seed) {
  if (num_observations < 1 || num_actions < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("soft Q table needs >= 1 observation and action, got ",
                     num_observations, " x ", num_actions));
  }
  // A 10^8-entry table is far beyond what a tabular learner should hold.
  if (num_observations * num_actions > 100'000'000) {
    return absl::InvalidArgumentError(
        absl::StrCat("soft Q table of ", num_observations, " x ", num_actions,
                     " entries is too large for a tabular learner"));
  }
  if (!(options.soft_q_alpha > 0) || !(options.soft_q_alpha_min > 0)) {
    return absl::InvalidArgumentError(
        "soft Q temperatures alpha and alpha_min must be > 0");
  }
  if (!(options.soft_q_alpha_decay > 0 && options.soft_q_alpha_decay <= 1)) {
    return absl::InvalidArgumentError("soft Q alpha_decay must be in (0, 1]");
  }
  if (!(options.soft_q_lr > 0 && options.soft_q_lr <= 1)) {
    return absl::InvalidArgumentError("soft Q learning rate must be in (0, 1]");
  }
  if (!(options.gamma >= 0 && options.gamma <= 1)) {
    return absl::InvalidArgumentError("gamma must be in [0, 1]");
  }
  return SoftQLearner(num_observations, num_actions, options, seed);
}

SoftQLearner::SoftQLearner(int64_t num_observations, int64_t num_actions,
                           const SoftQOptions& options, uint64_t seed)
    : num_observations_(num_observations),
      num_actions_(num_actions),
      options_(options),
      q_(static_cast<size_t>(num_observations * num_actions),
         options.initial_q),
      rng_(seed),
      scratch_(static_cast<size_t>(num_actions)) {}

double SoftQLearner::ScheduledTemperature(const SoftQOptions& options,
                                          int64_t t) {
  return TemperatureSchedule::Exponential(options.soft_q_alpha,
                                          options.soft_q_alpha_decay,
                                          options.soft_q_alpha_min)
      .At(t);
}

double SoftQLearner::temperature() const {
  return ScheduledTemperature(options_, step_);
}

void SoftQLearner::ProbabilitiesAt(int64_t obs, double alpha,
                                   std::vector<double>* probs,
                                   const bool* mask) const {
  probs->resize(static_cast<size_t>(num_actions_));
  SoftmaxPolicy(&q_[obs * num_actions_], nullptr, mask, num_actions_, alpha,
                probs->data());
}

void SoftQLearner::Probabilities(int64_t obs, std::vector<double>* probs,
                                 const bool* mask) const {
  ProbabilitiesAt(obs, temperature(), probs, mask);
}

double SoftQLearner::SoftValue(int64_t obs) const {
  return SoftMax(&q_[obs * num_actions_], num_actions_, temperature());
}

int64_t SoftQLearner::Sample(int64_t obs, const bool* mask) {
  Probabilities(obs, &scratch_, mask);
  return SampleIndex(scratch_.data(), num_actions_, &rng_);
}

int64_t SoftQLearner::Greedy(int64_t obs, const bool* mask) const {
  return ArgMax(&q_[obs * num_actions_], mask, num_actions_);
}

double SoftQLearner::Update(int64_t obs, int64_t action, double reward,
                            int64_t next_obs, bool terminated) {
  return UpdateDiscounted(obs, action, reward, next_obs,
                          terminated ? 0.0 : options_.gamma);
}

double SoftQLearner::UpdateDiscounted(int64_t obs, int64_t action,
                                      double reward, int64_t next_obs,
                                      double discount) {
  const double bootstrap = discount == 0 ? 0.0 : discount * SoftValue(next_obs);
  double& q = q_[obs * num_actions_ + action];
  const double td_error = reward + bootstrap - q;
  q += options_.soft_q_lr * td_error;
  ++step_;
  return td_error;
}

std::string SoftQLearner::Serialize() const {
  return LearnerStateWriter("soft_q", {num_observations_, num_actions_})
      .Doubles("q", q_)
      .Ints("step", {step_})
      .Engine("rng", rng_)
      .Finish();
}

absl::Status SoftQLearner::Restore(const std::string& bytes) {
  absl::StatusOr<LearnerStateReader> reader = LearnerStateReader::Open(
      bytes, "soft_q", {num_observations_, num_actions_});
  if (!reader.ok()) {
    return absl::Status(
        reader.status().code(),
        absl::StrCat(reader.status().message(), " (observations x actions)"));
  }
  std::vector<double> q;
  std::vector<int64_t> step;
  std::mt19937_64 rng;
  absl::Status s = reader->Doubles("q", static_cast<int64_t>(q_.size()), &q);
  if (s.ok()) s = reader->Ints("step", 1, &step);
  if (s.ok()) s = reader->Engine("rng", &rng);
  if (s.ok() && step[0] < 0) {
    s = absl::DataLossError("soft_q checkpoint: a negative step count");
  }
  if (!s.ok()) return s;
  q_ = std::move(q);
  step_ = step[0];
  rng_ = rng;
  return absl::OkStatus();
}

}  // namespace marl
