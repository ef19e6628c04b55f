// MADDPG (centralised critics, deterministic actors) for Box-action
// environments on the shared training loop.
//
//   bazel run //agents/maddpg -- --env=max_of_two_quadratics --steps=8000
#include <exception>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "agents/maddpg/maddpg_learner.h"
#include "common/training_flags.h"
#include "common/training_loop.h"

ABSL_FLAG(std::string, hidden, "100,100",
          "Hidden layer sizes of actors and critics, comma-separated.");
ABSL_FLAG(double, actor_lr, 1e-2, "Actor (Adam) learning rate.");
ABSL_FLAG(double, critic_lr, 1e-2, "Critic (Adam) learning rate.");
ABSL_FLAG(double, gamma, 0.95, "Discount factor.");
ABSL_FLAG(double, tau, 0.01, "Polyak rate of the target actors and critics.");
ABSL_FLAG(int64_t, batch_size, 512, "Minibatch size.");
ABSL_FLAG(int64_t, buffer_size, 100000,
          "Replay capacity in joint transitions.");
ABSL_FLAG(int64_t, warmup, 512,
          "Transitions (over all copies) acted uniformly at random first.");
ABSL_FLAG(double, update_ratio, 0.125,
          "Gradient updates per transition observed (0.125 with 8 copies = "
          "one update per batched step).");
ABSL_FLAG(double, noise_initial, 0.5,
          "Exploration noise std (normalised [-1, 1] action space) added to "
          "the decaying part: std = noise_min + noise_initial * "
          "exp(-noise_rate * max(t - noise_delay, 0)), t = transitions.");
ABSL_FLAG(double, noise_min, 0.05, "Exploration noise floor.");
ABSL_FLAG(double, noise_rate, 1e-3, "Exploration noise decay per transition.");
ABSL_FLAG(double, noise_delay, 1000,
          "Transitions before the exploration noise starts decaying.");

namespace marl {
namespace {

absl::StatusOr<std::vector<int64_t>> ParseHidden(const std::string& text) {
  std::vector<int64_t> sizes;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    int64_t size = 0;
    if (!absl::SimpleAtoi(part, &size) || size < 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("--hidden: '", part, "' is not a positive size"));
    }
    sizes.push_back(size);
  }
  return sizes;
}

int Main() {
  absl::StatusOr<TrainingOptions> options = TrainingOptionsFromFlags();
  absl::StatusOr<std::vector<int64_t>> hidden =
      ParseHidden(absl::GetFlag(FLAGS_hidden));
  if (!options.ok() || !hidden.ok()) {
    std::cerr << "maddpg: error: "
              << (options.ok() ? hidden.status() : options.status()).message()
              << std::endl;
    return 2;
  }
  MaddpgOptions o;
  o.hidden = *hidden;
  o.actor_lr = absl::GetFlag(FLAGS_actor_lr);
  o.critic_lr = absl::GetFlag(FLAGS_critic_lr);
  o.tau = absl::GetFlag(FLAGS_tau);
  o.base.gamma = absl::GetFlag(FLAGS_gamma);
  o.base.batch_size = absl::GetFlag(FLAGS_batch_size);
  o.base.buffer_capacity = absl::GetFlag(FLAGS_buffer_size);
  o.base.warmup = absl::GetFlag(FLAGS_warmup);
  o.base.update_ratio = absl::GetFlag(FLAGS_update_ratio);
  o.noise_initial = absl::GetFlag(FLAGS_noise_initial);
  o.noise_min = absl::GetFlag(FLAGS_noise_min);
  o.noise_rate = absl::GetFlag(FLAGS_noise_rate);
  o.noise_delay = absl::GetFlag(FLAGS_noise_delay);
  LearnerFactory factory = [o](const EnvSpec& spec, uint64_t seed) {
    return CreateMaddpgLearner(spec, o, DeriveSeed(seed, 1));
  };
  absl::StatusOr<TrainingResult> result =
      RunTraining(*options, "maddpg", factory);
  if (!result.ok()) {
    std::cerr << "maddpg: error: " << result.status() << std::endl;
    return 1;
  }
  std::cout << FormatResult(*result);
  return 0;
}

}  // namespace
}  // namespace marl

int main(int argc, char** argv) {
  if (!marl::ParseAgentCommandLine(
          argc, argv, "maddpg",
          "MADDPG (centralised critics, deterministic actors, Box actions) "
          "on an environment of the environment server.\n"
          "  maddpg --env=max_of_two_quadratics --steps=8000",
          "agents/maddpg/")) {
    return 2;
  }
  try {
    return marl::Main();
  } catch (const std::exception& e) {
    std::cerr << "maddpg: error: " << e.what() << std::endl;
    return 1;
  }
}
