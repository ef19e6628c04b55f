// Independent learners: each agent learns alone, treating the others as
// part of the environment — the baseline the multi-agent algorithms are
// compared against. Tabular soft Q-learning for Discrete games, soft
// actor-critic for Box actions. See README.md beside this file.
//
//   bazel run //agents/independent -- --env=matrix_game
//       --env_settings=game=climbing --steps=50000
#include <cstdlib>
#include <exception>
#include <iostream>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "agents/independent/trainer.h"
#include "runtime/training_flags.h"

ABSL_FLAG(std::string, learner, "auto",
          "'auto' (soft_q for Discrete actions, sac for Box actions), "
          "'soft_q' or 'sac'.");
ABSL_FLAG(double, gamma, 0.95, "Discount factor (both learners).");
// Tabular soft Q-learning.
ABSL_FLAG(double, soft_q_lr, 0.1, "soft_q: learning rate of the table update.");
ABSL_FLAG(double, soft_q_alpha, 1.0,
          "soft_q: initial temperature alpha0 of pi(a|s) ∝ exp(Q(s,a)/alpha).");
ABSL_FLAG(double, soft_q_alpha_min, 0.05,
          "soft_q: temperature floor: alpha_t = max(alpha_min, alpha0 * "
          "decay^t).");
ABSL_FLAG(double, soft_q_alpha_decay, 0.999,
          "soft_q: temperature decay per transition the agent learns from "
          "(1 = constant temperature).");
// Soft actor-critic.
ABSL_FLAG(std::string, sac_hidden, "64,64",
          "sac: hidden layer sizes of the actor and the twin critics, "
          "comma-separated.");
ABSL_FLAG(double, sac_actor_lr, 1e-3, "sac: actor (Adam) learning rate.");
ABSL_FLAG(double, sac_critic_lr, 3e-3, "sac: critics (Adam) learning rate.");
ABSL_FLAG(double, sac_alpha, 0.2,
          "sac: entropy temperature (fixed, or the starting value with "
          "--sac_auto_entropy). Entropy is measured in the action space "
          "normalised to (-1, 1).");
ABSL_FLAG(bool, sac_auto_entropy, false,
          "sac: tune the temperature automatically towards "
          "--sac_target_entropy.");
ABSL_FLAG(double, sac_alpha_lr, 1e-3, "sac: temperature learning rate.");
ABSL_FLAG(double, sac_target_entropy, std::numeric_limits<double>::quiet_NaN(),
          "sac: entropy target of --sac_auto_entropy; nan = -(action "
          "dimensions).");
ABSL_FLAG(int64_t, sac_batch_size, 64, "sac: minibatch size.");
ABSL_FLAG(double, sac_tau, 0.01, "sac: Polyak rate of the target critics.");
ABSL_FLAG(int64_t, sac_buffer_size, 100000,
          "sac: replay buffer capacity in transitions (per agent).");
ABSL_FLAG(int64_t, sac_warmup, 256,
          "sac: transitions acted uniformly at random before the policy takes "
          "over (per agent).");
ABSL_FLAG(double, sac_update_ratio, 0.25,
          "sac: gradient updates per transition observed (fractions "
          "accumulate; 0.25 with 8 copies = 2 updates per batched step).");

namespace marl {
namespace {

absl::StatusOr<IndependentOptions> OptionsFromFlags() {
  absl::StatusOr<TrainingOptions> loop = TrainingOptionsFromFlags();
  if (!loop.ok()) return loop.status();
  IndependentOptions o;
  static_cast<TrainingOptions&>(o) = *std::move(loop);
  o.learner = absl::GetFlag(FLAGS_learner);

  o.soft_q.learning_rate = absl::GetFlag(FLAGS_soft_q_lr);
  o.soft_q.gamma = absl::GetFlag(FLAGS_gamma);
  o.soft_q.alpha = absl::GetFlag(FLAGS_soft_q_alpha);
  o.soft_q.alpha_min = absl::GetFlag(FLAGS_soft_q_alpha_min);
  o.soft_q.alpha_decay = absl::GetFlag(FLAGS_soft_q_alpha_decay);

  absl::StatusOr<std::vector<int64_t>> hidden =
      ParseLayerSizes(absl::GetFlag(FLAGS_sac_hidden), "sac_hidden");
  if (!hidden.ok()) return hidden.status();
  o.sac.hidden = *std::move(hidden);
  o.sac.actor_lr = absl::GetFlag(FLAGS_sac_actor_lr);
  o.sac.critic_lr = absl::GetFlag(FLAGS_sac_critic_lr);
  o.sac.alpha = absl::GetFlag(FLAGS_sac_alpha);
  o.sac.auto_entropy = absl::GetFlag(FLAGS_sac_auto_entropy);
  o.sac.alpha_lr = absl::GetFlag(FLAGS_sac_alpha_lr);
  o.sac.target_entropy = absl::GetFlag(FLAGS_sac_target_entropy);
  o.sac.batch_size = absl::GetFlag(FLAGS_sac_batch_size);
  o.sac.tau = absl::GetFlag(FLAGS_sac_tau);
  o.sac.gamma = absl::GetFlag(FLAGS_gamma);
  o.sac.buffer_capacity = absl::GetFlag(FLAGS_sac_buffer_size);
  o.sac.warmup = absl::GetFlag(FLAGS_sac_warmup);
  o.sac.update_ratio = absl::GetFlag(FLAGS_sac_update_ratio);

  return o;
}

int Main() {
  absl::StatusOr<IndependentOptions> options = OptionsFromFlags();
  if (!options.ok()) {
    std::cerr << "independent: error: " << options.status().message()
              << std::endl;
    return 2;
  }
  absl::StatusOr<IndependentResult> result = RunIndependent(*options);
  if (!result.ok()) {
    std::cerr << "independent: error: " << result.status() << std::endl;
    return 1;
  }
  std::cout << FormatIndependentResult(*result);
  return 0;
}

}  // namespace
}  // namespace marl

int main(int argc, char** argv) {
  if (!marl::ParseAgentCommandLine(
          argc, argv, "independent",
          "Independent learners (tabular soft Q-learning / soft actor-critic "
          "per agent) on an environment of the environment server.\n"
          "  independent --env=matrix_game --env_settings=game=climbing "
          "--steps=50000",
          "agents/independent/")) {
    return 2;
  }
  // Nothing should throw past the Status boundary; this is the last guard
  // so a library exception still ends with a message, not an abort.
  try {
    return marl::Main();
  } catch (const std::exception& e) {
    std::cerr << "independent: error: " << e.what() << std::endl;
    return 1;
  }
}
