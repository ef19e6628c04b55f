// ROMMEO-AC (regularised opponent model, maximum-entropy objective) for
// Box-action games on the shared training loop. See
// agents/rommeo/rommeo_ac_learner.h.
//
//   bazel run //agents/rommeo:rommeo_ac -- --env=max_of_two_quadratics
#include <exception>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "agents/rommeo/rommeo_ac_learner.h"
#include "common/training_flags.h"
#include "common/training_loop.h"

ABSL_FLAG(std::string, hidden, "100,100",
          "Hidden layer sizes of Q, policy and opponent model, "
          "comma-separated.");
ABSL_FLAG(double, policy_lr, 1e-2,
          "Conditional policy pi(a^i|s,a^-i) (Adam) learning rate.");
ABSL_FLAG(double, opponent_lr, 1e-2,
          "Opponent model rho(a^-i|s) (Adam) learning rate.");
ABSL_FLAG(double, critic_lr, 1e-2, "Joint Q (Adam) learning rate.");
ABSL_FLAG(double, gamma, 0.95, "Discount factor.");
ABSL_FLAG(double, tau, 0.01, "Polyak rate of the target Q.");
ABSL_FLAG(double, alpha_min, 0.1,
          "Temperature floor: alpha_t = alpha_min + alpha_initial * "
          "exp(-alpha_rate * max(t - alpha_delay, 0)), t = gradient updates "
          "(the authors' 0.1 + 500 exp(-0.1 max(t - 10, 0))).");
ABSL_FLAG(double, alpha_initial, 500, "Annealed part of the temperature.");
ABSL_FLAG(double, alpha_rate, 0.1, "Temperature decay rate per update.");
ABSL_FLAG(double, alpha_delay, 10,
          "Updates before the temperature starts decaying.");
ABSL_FLAG(int64_t, batch_size, 512, "Minibatch size.");
ABSL_FLAG(int64_t, buffer_size, 100000,
          "Replay capacity in joint transitions.");
ABSL_FLAG(int64_t, warmup, 512,
          "Transitions (over all copies) acted uniformly at random first.");
ABSL_FLAG(double, update_ratio, 0.125,
          "Gradient updates per transition observed (0.125 with 8 copies = "
          "one update per batched step).");

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
    std::cerr << "rommeo_ac: error: "
              << (options.ok() ? hidden.status() : options.status()).message()
              << std::endl;
    return 2;
  }
  RommeoAcOptions o;
  o.hidden = *hidden;
  o.policy_lr = absl::GetFlag(FLAGS_policy_lr);
  o.opponent_lr = absl::GetFlag(FLAGS_opponent_lr);
  o.critic_lr = absl::GetFlag(FLAGS_critic_lr);
  o.tau = absl::GetFlag(FLAGS_tau);
  o.alpha_min = absl::GetFlag(FLAGS_alpha_min);
  o.alpha_initial = absl::GetFlag(FLAGS_alpha_initial);
  o.alpha_rate = absl::GetFlag(FLAGS_alpha_rate);
  o.alpha_delay = absl::GetFlag(FLAGS_alpha_delay);
  o.base.gamma = absl::GetFlag(FLAGS_gamma);
  o.base.batch_size = absl::GetFlag(FLAGS_batch_size);
  o.base.buffer_capacity = absl::GetFlag(FLAGS_buffer_size);
  o.base.warmup = absl::GetFlag(FLAGS_warmup);
  o.base.update_ratio = absl::GetFlag(FLAGS_update_ratio);
  LearnerFactory factory = [o](const EnvSpec& spec, uint64_t seed) {
    return CreateRommeoAcLearner(spec, o, DeriveSeed(seed, 1));
  };
  absl::StatusOr<TrainingResult> result =
      RunTraining(*options, "rommeo_ac", factory);
  if (!result.ok()) {
    std::cerr << "rommeo_ac: error: " << result.status() << std::endl;
    return 1;
  }
  std::cout << FormatResult(*result);
  return 0;
}

}  // namespace
}  // namespace marl

int main(int argc, char** argv) {
  if (!marl::ParseAgentCommandLine(
          argc, argv, "rommeo_ac",
          "ROMMEO-AC (joint Q, opponent model rho(a^-i|s), conditional "
          "policy pi(a^i|s,a^-i), annealed temperature) on an environment of "
          "the environment server.\n"
          "  rommeo_ac --env=max_of_two_quadratics --steps=8000",
          "agents/rommeo/rommeo_ac")) {
    return 2;
  }
  try {
    return marl::Main();
  } catch (const std::exception& e) {
    std::cerr << "rommeo_ac: error: " << e.what() << std::endl;
    return 1;
  }
}
