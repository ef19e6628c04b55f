// PR2-Q (tabular probabilistic recursive reasoning) for two-player matrix
// and other small Discrete games, and the naive gradient-ascent baseline
// it is compared with, on the shared training loop.
//
//   bazel run //agents/pr2:pr2_q -- --env=matrix_game
//       --env_settings=game=wolf --steps=40000
#include <exception>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "agents/pr2/gradient_ascent_learner.h"
#include "agents/pr2/pr2_q_learner.h"
#include "runtime/params.h"
#include "runtime/training_flags.h"
#include "runtime/training_loop.h"

ABSL_FLAG(std::string, learner, "pr2_q",
          "'pr2_q' (PR2-Q) or 'iga' (naive independent gradient ascent with "
          "exact expected payoffs, the PR2 paper's baseline).");
MARL_PARAM_FLAGS(Pr2QOptions, MARL_PR2_Q_PARAMS)
MARL_PARAM_FLAGS(GradientAscentOptions, MARL_GRADIENT_ASCENT_PARAMS)

namespace marl {
namespace {

absl::StatusOr<AgentAlgorithm> MakePr2QAlgorithm() {
  const std::string learner = absl::GetFlag(FLAGS_learner);
  LearnerFactory factory;
  if (learner == "pr2_q") {
    Pr2QOptions o;
    if (absl::Status s = ParamsFromFlags(&o); !s.ok()) return s;
    factory =
        [o](const EnvSpec& spec,
            uint64_t seed) -> absl::StatusOr<std::unique_ptr<JointLearner>> {
      absl::StatusOr<std::unique_ptr<Pr2QLearner>> l =
          Pr2QLearner::Create(spec, o, DeriveSeed(seed, 1));
      if (!l.ok()) return l.status();
      return std::unique_ptr<JointLearner>(*std::move(l));
    };
  } else if (learner == "iga") {
    GradientAscentOptions o;
    if (absl::Status s = ParamsFromFlags(&o); !s.ok()) return s;
    factory =
        [o](const EnvSpec& spec,
            uint64_t seed) -> absl::StatusOr<std::unique_ptr<JointLearner>> {
      absl::StatusOr<std::unique_ptr<GradientAscentLearner>> l =
          GradientAscentLearner::Create(spec, o, DeriveSeed(seed, 1));
      if (!l.ok()) return l.status();
      return std::unique_ptr<JointLearner>(*std::move(l));
    };
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "--learner must be 'pr2_q' or 'iga', got '", learner, "'"));
  }
  return AgentAlgorithm{learner, factory};
}

}  // namespace
}  // namespace marl

int main(int argc, char** argv) {
  return marl::RunAgentMain(
      argc, argv, "pr2_q",
      "PR2-Q (tabular probabilistic recursive reasoning) or naive gradient "
      "ascent on a two-player Discrete game.\n"
      "  pr2_q --env=matrix_game --env_settings=game=wolf --steps=40000",
      "agents/pr2/", [] { return marl::MakePr2QAlgorithm(); });
}
