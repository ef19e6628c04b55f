// GR2 (generalized recursive reasoning): GR2-L, level-k recursive
// reasoning with deterministic best responses, and GR2-M, a Poisson
// mixture over levels 0..k, for Box-action games (gr2_learner.h) and
// Discrete-action games (gr2_discrete_learner.h) on the shared training
// loop.
//
//   bazel run //agents/gr2 -- --env=beauty_contest
//       --env_settings=num_agents=10,p=0.7 --gr2_mode=level --gr2_level=2
//   bazel run //agents/gr2 -- --env=matrix_game --env_settings=game=wolf
#include <exception>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "agents/gr2/gr2_discrete_learner.h"
#include "agents/gr2/gr2_learner.h"
#include "runtime/training_flags.h"
#include "runtime/training_loop.h"

ABSL_FLAG(std::string, gr2_mode, "level",
          "'level' (GR2-L: play level --gr2_level) or 'mixture' (GR2-M: "
          "Poisson(--gr2_poisson_mean) mixture of levels 0..--gr2_level).");
ABSL_FLAG(int, gr2_level, 1,
          "Recursion depth k: the level played (GR2-L) or the highest level "
          "mixed (GR2-M).");
ABSL_FLAG(double, gr2_poisson_mean, 1.5,
          "GR2-M: mean lambda of the Poisson level weights, normalised over "
          "levels 0..k.");
ABSL_FLAG(std::string, gr2_hidden, "10,10",
          "Hidden ReLU layer sizes of every network, comma-separated (the "
          "paper: 10,10 for matrix games and the beauty contest).");
ABSL_FLAG(double, gr2_lr, 1e-3,
          "Adam learning rate of every network (the paper: 1e-4; raised so "
          "short runs converge).");
ABSL_FLAG(int64_t, gr2_batch_size, 64, "Minibatch size.");
ABSL_FLAG(int64_t, gr2_buffer_size, 100000, "Replay capacity (transitions).");
ABSL_FLAG(int64_t, gr2_learning_starts, 1000,
          "Transitions acted uniformly at random before learning starts.");
ABSL_FLAG(double, gr2_update_ratio, 0.125,
          "Gradient updates per transition observed (fractions accumulate; "
          "0.125 with 8 copies = 1 update per batched step).");
ABSL_FLAG(double, gr2_gamma, 0.95, "Discount factor.");
ABSL_FLAG(double, gr2_tau, 0.01, "Polyak rate of the target critic.");
ABSL_FLAG(double, gr2_alpha, 0.01,
          "Entropy temperature of the level-0 policy (normalised actions).");
ABSL_FLAG(double, gr2_aux_weight, 1.0,
          "Weight of the auxiliary loss max(0, Q(level k-2) - Q(level k)).");
ABSL_FLAG(double, gr2_explore_noise, 0.1,
          "Box actions: std of the Gaussian exploration noise added to "
          "training actions, in the action space normalised to (-1, 1).");
ABSL_FLAG(double, gr2_explore_epsilon, 0.05,
          "Discrete actions: probability of a uniformly random training "
          "action.");
ABSL_FLAG(double, gr2_reward_scale, 1.0,
          "Rewards are multiplied by this before learning (e.g. 0.02 for the "
          "beauty contest's rewards of up to -100).");

namespace marl {
namespace {

absl::StatusOr<Gr2Options> OptionsFromFlags() {
  Gr2Options o;
  absl::StatusOr<Gr2Options::Mode> mode =
      ParseGr2Mode(absl::GetFlag(FLAGS_gr2_mode));
  if (!mode.ok()) return mode.status();
  o.mode = *mode;
  o.level = absl::GetFlag(FLAGS_gr2_level);
  o.poisson_mean = absl::GetFlag(FLAGS_gr2_poisson_mean);
  absl::StatusOr<std::vector<int64_t>> hidden =
      ParseLayerSizes(absl::GetFlag(FLAGS_gr2_hidden), "gr2_hidden");
  if (!hidden.ok()) return hidden.status();
  o.hidden = *std::move(hidden);
  o.lr = absl::GetFlag(FLAGS_gr2_lr);
  o.batch_size = absl::GetFlag(FLAGS_gr2_batch_size);
  o.buffer_capacity = absl::GetFlag(FLAGS_gr2_buffer_size);
  o.learning_starts = absl::GetFlag(FLAGS_gr2_learning_starts);
  o.update_ratio = absl::GetFlag(FLAGS_gr2_update_ratio);
  o.gamma = absl::GetFlag(FLAGS_gr2_gamma);
  o.tau = absl::GetFlag(FLAGS_gr2_tau);
  o.alpha = absl::GetFlag(FLAGS_gr2_alpha);
  o.aux_weight = absl::GetFlag(FLAGS_gr2_aux_weight);
  o.explore_noise = absl::GetFlag(FLAGS_gr2_explore_noise);
  o.explore_epsilon = absl::GetFlag(FLAGS_gr2_explore_epsilon);
  o.reward_scale = absl::GetFlag(FLAGS_gr2_reward_scale);
  return o;
}

absl::StatusOr<AgentAlgorithm> MakeGr2Algorithm() {
  absl::StatusOr<Gr2Options> gr2 = OptionsFromFlags();
  if (!gr2.ok()) return gr2.status();
  const Gr2Options o = *gr2;
  LearnerFactory factory = FactoryOf(CreateGr2Learner, o);
  // The algorithm name tells the modes apart in run names and plots.
  return AgentAlgorithm{Gr2AlgorithmName(o), factory, {}};
}

}  // namespace
}  // namespace marl

int main(int argc, char** argv) {
  return marl::RunAgentMain(
      argc, argv, "gr2",
      "GR2-L (level-k recursive reasoning) or GR2-M (Poisson mixture of "
      "levels) on a Box- or Discrete-action game.\n"
      "  gr2 --env=beauty_contest --env_settings=num_agents=10,p=0.7 "
      "--gr2_mode=level --gr2_level=2\n"
      "  gr2 --env=matrix_game --env_settings=game=climbing "
      "--gr2_mode=mixture --gr2_level=3",
      "agents/gr2/", [] { return marl::MakeGr2Algorithm(); });
}
