#include "envs/beauty_contest/beauty_contest.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "absl/strings/str_cat.h"
#include "envs/core/memory_estimate.h"
#include "envs/core/registry.h"

namespace marl {

std::vector<SettingDecl> BeautyContestEnv::SettingDecls() {
  return {
      {"num_agents",
       "number of players (>= 2; each costs about 0.5 KB of server memory "
       "per copy)",
       int64_t{10}},
      {"p",
       "target = p * mean of all guesses; in [0, 1e27] ([0, 1e12] with "
       "reward \"squared\") so that rewards stay within 1e30",
       double{0.7}},
      {"reward",
       "\"absolute\": -|x - target|; \"squared\": -(x - target)^2; "
       "\"closest\": 1 for the closest guess(es), else 0",
       std::string("absolute")},
  };
}

namespace {

// Guesses lie in [0, kMaxGuess]: the target p * mean lies in [0, 100 p] and
// a guess's distance to it is at most 100 * max(1, p). The largest p keeps
// every reward (and the "target" info) within kMaxAbsReward = 1e30 with a
// margin for rounding: |reward| <= 1e29 for "absolute" and "closest"
// (target <= 1e29), (1e14)^2 = 1e28 for "squared".
constexpr float kMaxGuess = 100.0f;
constexpr double kMaxPLinear = 1e27;
constexpr double kMaxPSquared = 1e12;

// The agent ids' length: "player_" and the largest index.
int64_t MaxIdLength(int64_t num_agents) {
  return static_cast<int64_t>(absl::StrCat("player_", num_agents - 1).size());
}

}  // namespace

absl::Status BeautyContestEnv::CheckSettings(const Settings& settings,
                                             Reward* reward) {
  // The upper bound keeps the agent count an int; the server's memory
  // budget (see EstimateCopyBytes) is what limits it in practice.
  if (absl::Status s =
          CheckIntInRange("num_agents", settings.GetInt("num_agents"), 2,
                          std::numeric_limits<int32_t>::max());
      !s.ok()) {
    return s;
  }
  const std::string& name = settings.GetString("reward");
  if (name == "absolute") {
    *reward = Reward::kAbsolute;
  } else if (name == "squared") {
    *reward = Reward::kSquared;
  } else if (name == "closest") {
    *reward = Reward::kClosest;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("reward must be \"absolute\", \"squared\" or "
                     "\"closest\", got \"",
                     name, "\""));
  }
  const bool squared = *reward == Reward::kSquared;
  return CheckDoubleInRange(
      "p", settings.GetDouble("p"), 0.0, squared ? kMaxPSquared : kMaxPLinear,
      absl::StrCat("with reward \"", name,
                   "\", so that every reward and the target for guesses in "
                   "[0, 100] stay within ",
                   kMaxAbsReward));
}

absl::StatusOr<std::unique_ptr<Env>> BeautyContestEnv::Create(
    const Settings& settings) {
  Reward reward;
  if (absl::Status s = CheckSettings(settings, &reward); !s.ok()) return s;
  return std::make_unique<BeautyContestEnv>(
      static_cast<int>(settings.GetInt("num_agents")), settings.GetDouble("p"),
      reward);
}

absl::StatusOr<int64_t> BeautyContestEnv::EstimateCopyBytes(
    const Settings& settings) {
  Reward reward;
  if (absl::Status s = CheckSettings(settings, &reward); !s.ok()) return s;
  const int64_t n = settings.GetInt("num_agents");
  // Mirrors the constructor: every per-agent vector holds exactly n.
  return ByteEstimate()
      .AddObject(sizeof(BeautyContestEnv))
      .AddArray(n, sizeof(std::string))  // spec_.agent_ids
      .AddStrings(n, MaxIdLength(n))
      .AddArray(n, sizeof(Space))  // spec_.observation_spaces
      .AddSpaces(n, ObservationSpace())
      .AddArray(n, sizeof(Space))  // spec_.action_spaces
      .AddSpaces(n, ActionSpace())
      .AddArray(1, sizeof(std::string))  // spec_.info_keys
      .AddStrings(1, 6)
      .AddArray(n, sizeof(double))  // guesses_
      .AddArray(n, sizeof(double))  // rewards_
      .Total();
}

Space BeautyContestEnv::ObservationSpace() {
  return Space::Box({1}, {0.0f}, {1.0f});
}

Space BeautyContestEnv::ActionSpace() {
  return Space::Box({1}, {0.0f}, {kMaxGuess});
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
  const Space observation = ObservationSpace();
  const Space action = ActionSpace();
  // Exact capacities: EstimateCopyBytes counts n elements per vector.
  spec_.agent_ids.reserve(num_agents);
  spec_.observation_spaces.reserve(num_agents);
  spec_.action_spaces.reserve(num_agents);
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
                   BeautyContestEnv::SettingDecls(), BeautyContestEnv::Create,
                   BeautyContestEnv::EstimateCopyBytes});

}  // namespace marl
