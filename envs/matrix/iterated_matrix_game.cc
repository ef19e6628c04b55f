#include "envs/matrix/iterated_matrix_game.h"

#include <limits>
#include <string>

#include "absl/strings/str_cat.h"
#include "envs/core/checked_size.h"
#include "envs/core/memory_estimate.h"
#include "envs/core/registry.h"

namespace marl {

std::vector<SettingDecl> IteratedMatrixGameEnv::SettingDecls() {
  std::vector<SettingDecl> decls =
      PayoffSettingDecls(std::string("stackelberg_pd"));
  decls.push_back({"episode_length", "steps per episode (ended by truncation)",
                   int64_t{10}});
  decls.push_back({"memory",
                   "\"full\": 1 + a0 + n*a1 of the last step; \"small\": 1 + "
                   "the other agent's last action (0 on the first step)",
                   std::string("full")});
  decls.push_back({"reward_offset",
                   "added to every reward (the Stackelberg code used -2.5)",
                   double{0.0}});
  decls.push_back({"reward_scale", "multiplies every payoff", double{1.0}});
  return decls;
}

namespace {

// The checks of every setting but the payoffs' contents, shared by Create
// and the estimate; `*memory` is the parsed memory kind.
absl::Status CheckIteratedSettings(const Settings& settings,
                                   const PayoffSummary& payoffs,
                                   IteratedMatrixGameEnv::Memory* memory) {
  if (absl::Status s =
          CheckIntInRange("episode_length", settings.GetInt("episode_length"),
                          1, std::numeric_limits<int32_t>::max());
      !s.ok()) {
    return s;
  }
  const std::string& memory_name = settings.GetString("memory");
  if (memory_name == "full") {
    *memory = IteratedMatrixGameEnv::Memory::kFull;
    // Observations travel as floats, exact only up to 2^24.
    int64_t joint;
    if (!CheckedMul(payoffs.rows, payoffs.cols, &joint) ||
        joint >= (int64_t{1} << 24)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "full memory needs 1 + n*m <= 2^24 observation states, got ",
          payoffs.rows, " x ", payoffs.cols, " actions"));
    }
  } else if (memory_name == "small") {
    *memory = IteratedMatrixGameEnv::Memory::kSmall;
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "memory must be \"full\" or \"small\", got \"", memory_name, "\""));
  }
  return CheckRewardSettings(payoffs, settings.GetDouble("reward_scale"),
                             settings.GetDouble("reward_offset"));
}

// The payoffs' summary once every setting passed its checks.
absl::StatusOr<PayoffSummary> CheckedSummary(
    const Settings& settings, IteratedMatrixGameEnv::Memory* memory) {
  absl::StatusOr<PayoffSummary> summary = SummarizePayoffSettings(settings);
  if (!summary.ok()) return summary.status();
  if (absl::Status s = CheckIteratedSettings(settings, *summary, memory);
      !s.ok()) {
    return s;
  }
  return summary;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Env>> IteratedMatrixGameEnv::Create(
    const Settings& settings) {
  Memory memory;
  absl::StatusOr<PayoffSummary> summary = CheckedSummary(settings, &memory);
  if (!summary.ok()) return summary.status();
  absl::StatusOr<PayoffMatrices> payoffs = PayoffsFromSettings(settings);
  if (!payoffs.ok()) return payoffs.status();
  return std::make_unique<IteratedMatrixGameEnv>(
      *std::move(payoffs), static_cast<int>(settings.GetInt("episode_length")),
      memory, settings.GetDouble("reward_scale"),
      settings.GetDouble("reward_offset"));
}

absl::StatusOr<int64_t> IteratedMatrixGameEnv::EstimateCopyBytes(
    const Settings& settings) {
  Memory memory;
  absl::StatusOr<PayoffSummary> summary = CheckedSummary(settings, &memory);
  if (!summary.ok()) return summary.status();
  absl::StatusOr<int64_t> payoff_bytes = PayoffCopyBytes(*summary);
  if (!payoff_bytes.ok()) return payoff_bytes.status();
  return ByteEstimate()
      .AddObject(sizeof(IteratedMatrixGameEnv))
      .AddBytes(1, *payoff_bytes)
      .Total();
}

IteratedMatrixGameEnv::IteratedMatrixGameEnv(PayoffMatrices payoffs,
                                             int episode_length, Memory memory,
                                             double reward_scale,
                                             double reward_offset)
    : payoffs_(std::move(payoffs)),
      memory_(memory),
      reward_scale_(reward_scale),
      reward_offset_(reward_offset) {
  const int64_t n = payoffs_.rows;
  const int64_t m = payoffs_.cols;
  spec_.agent_ids = {"player_0", "player_1"};
  if (memory_ == Memory::kFull) {
    spec_.observation_spaces = {Space::Discrete(1 + n * m),
                                Space::Discrete(1 + n * m)};
  } else {
    // Each agent sees the other's action.
    spec_.observation_spaces = {Space::Discrete(1 + m), Space::Discrete(1 + n)};
  }
  spec_.action_spaces = {Space::Discrete(n), Space::Discrete(m)};
  spec_.episode_limit = episode_length;
}

void IteratedMatrixGameEnv::Reset(const Output& out) {
  // The state is only the last joint action, which the observation already
  // carries: nothing to remember between steps.
  out.observation(0)[0] = 0.0f;
  out.observation(1)[0] = 0.0f;
}

void IteratedMatrixGameEnv::Step(const Actions& actions, const Output& out) {
  const int64_t a0 = actions.discrete(0);
  const int64_t a1 = actions.discrete(1);
  out.set_reward(0,
                 static_cast<float>(reward_scale_ * payoffs_.RowPayoff(a0, a1) +
                                    reward_offset_));
  out.set_reward(
      1, static_cast<float>(reward_scale_ * payoffs_.ColumnPayoff(a0, a1) +
                            reward_offset_));
  if (memory_ == Memory::kFull) {
    const float joint = static_cast<float>(1 + a0 + payoffs_.rows * a1);
    out.observation(0)[0] = joint;
    out.observation(1)[0] = joint;
  } else {
    out.observation(0)[0] = static_cast<float>(1 + a1);
    out.observation(1)[0] = static_cast<float>(1 + a0);
  }
}

MARL_REGISTER_ENV({IteratedMatrixGameEnv::kName,
                   "two-player matrix game repeated for episode_length steps "
                   "with memory of the last joint action",
                   IteratedMatrixGameEnv::SettingDecls(),
                   IteratedMatrixGameEnv::Create,
                   IteratedMatrixGameEnv::EstimateCopyBytes});

}  // namespace marl
