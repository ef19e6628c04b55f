#include "envs/beauty_contest/beauty_contest.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "envs/core/registry.h"

namespace marl {

std::vector<SettingDecl> BeautyContestEnv::SettingDecls() {
  return {
      {"num_agents", "number of players (>= 2)", int64_t{10}},
      {"p", "target = p * mean of all guesses", double{0.7}},
      {"reward",
       "\"absolute\": -|x - target|; \"squared\": -(x - target)^2; "
       "\"closest\": 1 for the closest guess(es), else 0",
       std::string("absolute")},
  };
}

absl::StatusOr<std::unique_ptr<Env>> BeautyContestEnv::Create(
    const Settings& settings) {
  const int64_t num_agents = settings.GetInt("num_agents");
  // The upper bound only keeps the agent count an int.
  if (num_agents < 2 || num_agents > 1000000) {
    return absl::InvalidArgumentError(
        absl::StrCat("num_agents must be in [2, 1000000], got ", num_agents));
  }
  const double p = settings.GetDouble("p");
  if (!std::isfinite(p) || p < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("p must be finite and >= 0, got ", p));
  }
  const std::string& name = settings.GetString("reward");
  Reward reward;
  if (name == "absolute") {
    reward = Reward::kAbsolute;
  } else if (name == "squared") {
    reward = Reward::kSquared;
  } else if (name == "closest") {
    reward = Reward::kClosest;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("reward must be \"absolute\", \"squared\" or "
                     "\"closest\", got \"",
                     name, "\""));
  }
  return std::make_unique<BeautyContestEnv>(static_cast<int>(num_agents), p,
                                            reward);
}

double BeautyContestEnv::Score(Reward reward, double p,
                               const std::vector<double>& x,
                               std::vector<double>* rewards) {
  double sum = 0;
  for (double xi : x) sum += xi;
  const double target = p * sum / static_cast<double>(x.size());
  rewards->resize(x.size());
  switch (reward) {
    case Reward::kAbsolute:
      for (size_t i = 0; i < x.size(); ++i) {
        (*rewards)[i] = -std::abs(x[i] - target);
      }
      break;
    case Reward::kSquared:
      for (size_t i = 0; i < x.size(); ++i) {
        (*rewards)[i] = -(x[i] - target) * (x[i] - target);
      }
      break;
    case Reward::kClosest: {
      double best = std::abs(x[0] - target);
      for (double xi : x) best = std::min(best, std::abs(xi - target));
      const double tolerance = 1e-9 * std::max(1.0, target);
      for (size_t i = 0; i < x.size(); ++i) {
        (*rewards)[i] = std::abs(x[i] - target) <= best + tolerance ? 1 : 0;
      }
      break;
    }
  }
  return target;
}

BeautyContestEnv::BeautyContestEnv(int num_agents, double p, Reward reward)
    : p_(p), reward_(reward), guesses_(num_agents), rewards_(num_agents) {
  const Space observation = Space::Box({1}, {0.0f}, {1.0f});
  const Space action = Space::Box({1}, {0.0f}, {100.0f});
  for (int i = 0; i < num_agents; ++i) {
    spec_.agent_ids.push_back(absl::StrCat("player_", i));
    spec_.observation_spaces.push_back(observation);
    spec_.action_spaces.push_back(action);
  }
  spec_.episode_limit = 0;  // one step, ended by termination
  spec_.info_keys = {"target"};
}

void BeautyContestEnv::Reset(const Output& out) {
  for (int i = 0; i < spec_.num_agents(); ++i) out.observation(i)[0] = 0.0f;
  out.info()[0] = 0.0f;  // no target before anyone guessed
}

void BeautyContestEnv::Step(const Actions& actions, const Output& out) {
  const int n = spec_.num_agents();
  for (int i = 0; i < n; ++i) guesses_[i] = actions.continuous(i)[0];
  const double target = Score(reward_, p_, guesses_, &rewards_);
  for (int i = 0; i < n; ++i) {
    out.set_reward(i, static_cast<float>(rewards_[i]));
    out.observation(i)[0] = 0.0f;
  }
  out.info()[0] = static_cast<float>(target);
  out.set_terminated(true);
}

MARL_REGISTER_ENV({BeautyContestEnv::kName,
                   "Keynes beauty contest: n agents guess in [0, 100], the "
                   "closest to p * mean wins",
                   BeautyContestEnv::SettingDecls(), BeautyContestEnv::Create});

}  // namespace marl
