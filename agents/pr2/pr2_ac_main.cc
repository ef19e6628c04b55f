// PR2-AC (deep probabilistic recursive reasoning) for Box-action games on
// the shared training loop. See agents/pr2/pr2_ac_learner.h.
//
//   bazel run //agents/pr2:pr2_ac -- --env=max_of_two_quadratics --steps=8000
#include <exception>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "agents/pr2/pr2_ac_learner.h"
#include "common/training_flags.h"
#include "common/training_loop.h"

ABSL_FLAG(std::string, hidden, "100,100",
          "Hidden layer sizes of Q, policy and opponent model, "
          "comma-separated.");
ABSL_FLAG(double, policy_lr, 1e-2, "Policy (Adam) learning rate.");
ABSL_FLAG(double, critic_lr, 1e-2, "Joint Q (Adam) learning rate.");
ABSL_FLAG(double, opponent_lr, 1e-2,
          "Opponent model (amortised SVGD sampler) learning rate.");
ABSL_FLAG(double, gamma, 0.95, "Discount factor.");
ABSL_FLAG(double, tau, 0.01, "Polyak rate of the target Q.");
ABSL_FLAG(double, alpha, 0.1,
          "Final entropy temperature of the policy (normalised action "
          "space): alpha + alpha_initial * exp(-alpha_rate * max(u - "
          "alpha_delay, 0)), u = gradient updates.");
ABSL_FLAG(double, alpha_initial, 2.0,
          "Annealed part of the entropy temperature (0 = constant alpha).");
ABSL_FLAG(double, alpha_rate, 0.01, "Entropy temperature decay per update.");
ABSL_FLAG(double, alpha_delay, 0.0,
          "Updates before the entropy temperature starts decaying.");
ABSL_FLAG(double, opponent_temperature, 1.0,
          "T of the opponent model rho ∝ exp(Q/T) and of the marginal value "
          "T log mean exp(Q/T).");
ABSL_FLAG(int32_t, value_particles, 16,
          "Opponent samples per opponent-marginalised value.");
ABSL_FLAG(int32_t, kernel_particles, 32,
          "Opponent samples per state for SVGD (half kernel, half updated).");
ABSL_FLAG(int64_t, batch_size, 512, "Minibatch size.");
ABSL_FLAG(int64_t, buffer_size, 100000,
          "Replay capacity in joint transitions.");
ABSL_FLAG(int64_t, warmup, 512,
          "Transitions (over all copies) acted uniformly at random first.");
ABSL_FLAG(double, update_ratio, 0.125,
          "Gradient updates per transition observed (0.125 with 8 copies = "
          "one update per batched step).");
ABSL_FLAG(double, noise_initial, 0.5,
          "Extra Gaussian exploration noise std (normalised space) on sampled "
          "actions: noise_min + noise_initial * exp(-noise_rate * max(t - "
          "noise_delay, 0)), t = transitions.");
ABSL_FLAG(double, noise_min, 0.0, "Exploration noise floor.");
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
    std::cerr << "pr2_ac: error: "
              << (options.ok() ? hidden.status() : options.status()).message()
              << std::endl;
    return 2;
  }
  Pr2AcOptions o;
  o.hidden = *hidden;
  o.policy_lr = absl::GetFlag(FLAGS_policy_lr);
  o.critic_lr = absl::GetFlag(FLAGS_critic_lr);
  o.opponent_lr = absl::GetFlag(FLAGS_opponent_lr);
  o.tau = absl::GetFlag(FLAGS_tau);
  o.alpha = absl::GetFlag(FLAGS_alpha);
  o.alpha_initial = absl::GetFlag(FLAGS_alpha_initial);
  o.alpha_rate = absl::GetFlag(FLAGS_alpha_rate);
  o.alpha_delay = absl::GetFlag(FLAGS_alpha_delay);
  o.opponent_temperature = absl::GetFlag(FLAGS_opponent_temperature);
  o.value_particles = absl::GetFlag(FLAGS_value_particles);
  o.kernel_particles = absl::GetFlag(FLAGS_kernel_particles);
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
    return CreatePr2AcLearner(spec, o, DeriveSeed(seed, 1));
  };
  absl::StatusOr<TrainingResult> result =
      RunTraining(*options, "pr2_ac", factory);
  if (!result.ok()) {
    std::cerr << "pr2_ac: error: " << result.status() << std::endl;
    return 1;
  }
  std::cout << FormatResult(*result);
  return 0;
}

}  // namespace
}  // namespace marl

int main(int argc, char** argv) {
  if (!marl::ParseAgentCommandLine(
          argc, argv, "pr2_ac",
          "PR2-AC (joint soft Q, tanh-Gaussian policy, amortised-SVGD "
          "conditional opponent model) on an environment of the environment "
          "server.\n"
          "  pr2_ac --env=max_of_two_quadratics --steps=8000",
          "agents/pr2/pr2_ac")) {
    return 2;
  }
  try {
    return marl::Main();
  } catch (const std::exception& e) {
    std::cerr << "pr2_ac: error: " << e.what() << std::endl;
    return 1;
  }
}
