#ifndef MARL_ENVS_TESTING_ENV_CHECKS_H_
#define MARL_ENVS_TESTING_ENV_CHECKS_H_

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "envs/core/env_spec.h"
#include "envs/core/settings.h"
#include "envs/core/space.h"

namespace marl {

// Generic checks any environment's test can run, in the spirit of
// OpenSpiel's random-simulation tests and PettingZoo's api_test. Each
// returns OK or an error naming the first problem found, so a test writes
//
//   absl::Status s = RunEnvChecks("matrix_game", options);
//   EXPECT_TRUE(s.ok()) << s;

struct EnvCheckOptions {
  // Settings given to the factory (unset ones take their defaults).
  std::map<std::string, SettingValue> settings;
  int num_copies = 3;
  uint64_t seed = 1;
  // Random play: episodes to finish, over all copies together.
  int num_episodes = 30;
  // Bound on an episode's length when spec.episode_limit is 0.
  int max_episode_steps = 1000;
  // Determinism: steps per phase (see CheckDeterminism).
  int determinism_steps = 60;
  // Whether the env's dynamics depend on its seed: true = a different seed
  // must change the trajectory under the same actions; false = it must not.
  bool stochastic = false;
};

// Spec sanity: at least one agent, unique non-empty ids, one observation
// and one action space per agent, every space well formed (Discrete n >= 1,
// Box bounds per element with low <= high and no NaN, MultiDiscrete
// nvec >= 1), episode_limit >= 0, unique non-empty info keys.
absl::Status CheckSpec(const EnvSpec& spec);

// A well-formed space (the per-space part of CheckSpec): Space::Validate.
absl::Status CheckSpaceWellFormed(const Space& space);

// Whether a packed observation (always floats) lies in `space`: Discrete and
// MultiDiscrete values must be integers in range.
absl::Status CheckObservationInSpace(const Space& space, const float* values);

// The registration: the name is found, setting names are unique and
// described, the env builds with defaults and with options.settings, both
// specs pass CheckSpec, and the registration's memory estimate
// (EstimateCopyBytes) accepts both settings with a positive byte count.
absl::Status CheckRegistration(const std::string& name,
                               const EnvCheckOptions& options = {});

// Plays options.num_episodes episodes with uniformly random legal actions
// through a LocalBatch (same-step auto-reset) seeded with options.seed.
// Checks every reset and step: observations, public observations, states
// and final observations in their spaces; rewards and infos finite; legal
// actions exist for the acting agent; current_agent in range (turn-based);
// episode_step counts the steps (an ended row reports the ended episode's
// length); ended rows, and only they, are listed in final_rows, with final
// observations in their spaces; episodes end by the limit
// (truncated at exactly episode_limit steps) or, without one, within
// options.max_episode_steps.
absl::Status CheckRandomPlay(const std::string& name,
                             const EnvCheckOptions& options = {});

// Runs two batches made with options.seed under the same random actions and
// compares everything they return, in two phases of
// options.determinism_steps steps: after a plain reset, then after a reset
// with explicit per-copy seeds. The phases must match between the two runs.
// A third batch made with options.seed + 1 must match in the second phase
// (explicit seeds restart the streams) and, in the first, differ if
// options.stochastic, else match.
absl::Status CheckDeterminism(const std::string& name,
                              const EnvCheckOptions& options = {});

// CheckRegistration, CheckRandomPlay and CheckDeterminism.
absl::Status RunEnvChecks(const std::string& name,
                          const EnvCheckOptions& options = {});

// Uniformly random packed actions for `num_copies` copies: per agent,
// discrete (Discrete/MultiDiscrete) or continuous (Box) arrays in the layout
// LocalBatch::StepAll takes. `masks[agent]` (num_copies x n, may be empty)
// restricts Discrete choices for copies whose row has a legal action. Box
// actions hit the bounds exactly one time in ten each, to exercise the
// edges.
void SampleRandomActions(const EnvSpec& spec, int num_copies,
                         const std::vector<std::vector<bool>>& masks,
                         std::mt19937_64& rng,
                         std::vector<std::vector<int64_t>>* discrete,
                         std::vector<std::vector<float>>* continuous);

}  // namespace marl

#endif  // MARL_ENVS_TESTING_ENV_CHECKS_H_
