#include "envs/matrix/matrix_game.h"

#include <string>

#include "envs/core/memory_estimate.h"
#include "envs/core/registry.h"

namespace marl {

std::vector<SettingDecl> MatrixGameEnv::SettingDecls() {
  std::vector<SettingDecl> decls =
      PayoffSettingDecls(std::string("prisoners_dilemma"));
  decls.push_back({"reward_scale", "multiplies every payoff", double{1.0}});
  return decls;
}

absl::StatusOr<std::unique_ptr<Env>> MatrixGameEnv::Create(
    const Settings& settings) {
  absl::StatusOr<PayoffSummary> summary = SummarizePayoffSettings(settings);
  if (!summary.ok()) return summary.status();
  const double reward_scale = settings.GetDouble("reward_scale");
  if (absl::Status s = CheckRewardSettings(*summary, reward_scale, 0.0);
      !s.ok()) {
    return s;
  }
  absl::StatusOr<PayoffMatrices> payoffs = PayoffsFromSettings(settings);
  if (!payoffs.ok()) return payoffs.status();
  return std::make_unique<MatrixGameEnv>(*payoffs, reward_scale);
}

absl::StatusOr<int64_t> MatrixGameEnv::EstimateCopyBytes(
    const Settings& settings) {
  absl::StatusOr<PayoffSummary> summary = SummarizePayoffSettings(settings);
  if (!summary.ok()) return summary.status();
  if (absl::Status s = CheckRewardSettings(
          *summary, settings.GetDouble("reward_scale"), 0.0);
      !s.ok()) {
    return s;
  }
  absl::StatusOr<int64_t> payoff_bytes =
      PayoffCopyBytes(*summary, PayoffStorage::kFloatRewardPairs);
  if (!payoff_bytes.ok()) return payoff_bytes.status();
  return ByteEstimate()
      .AddObject(sizeof(MatrixGameEnv))
      .AddBytes(1, *payoff_bytes)
      .Total();
}

MatrixGameEnv::MatrixGameEnv(const PayoffMatrices& payoffs, double reward_scale)
    : cols_(payoffs.cols) {
  const int64_t entries = payoffs.rows * payoffs.cols;
  rewards_.resize(2 * entries);
  for (int64_t i = 0; i < entries; ++i) {
    rewards_[2 * i] = static_cast<float>(reward_scale * payoffs.row_payoffs[i]);
    rewards_[2 * i + 1] =
        static_cast<float>(reward_scale * payoffs.column_payoffs[i]);
  }
  spec_.agent_ids = {"player_0", "player_1"};
  spec_.observation_spaces = {Space::Discrete(1), Space::Discrete(1)};
  spec_.action_spaces = {Space::Discrete(payoffs.rows),
                         Space::Discrete(payoffs.cols)};
  // One step, ended by termination: no limit needed.
  spec_.episode_limit = 0;
}

void MatrixGameEnv::Reset(const Output& out) {
  out.observation(0)[0] = 0.0f;
  out.observation(1)[0] = 0.0f;
}

void MatrixGameEnv::Step(const Actions& actions, const Output& out) {
  const float* rewards =
      rewards_.data() + 2 * (actions.discrete(0) * cols_ + actions.discrete(1));
  out.set_reward(0, rewards[0]);
  out.set_reward(1, rewards[1]);
  out.observation(0)[0] = 0.0f;
  out.observation(1)[0] = 0.0f;
  out.set_terminated(true);
}

void MatrixGameEnv::StepRows(const BatchRows& rows) {
  // Step for every row: copies differ in nothing but their actions
  // (Discrete: one value per row); observations stay as cleared (0).
  const int64_t* actions0 = rows.actions.discrete[0];
  const int64_t* actions1 = rows.actions.discrete[1];
  float* rewards0 = rows.out.reward[0];
  float* rewards1 = rows.out.reward[1];
  bool* terminated = rows.out.terminated;
  const float* table = rewards_.data();
  const int64_t cols = cols_;
  for (const int64_t row : rows.rows) {
    const float* pair = table + 2 * (actions0[row] * cols + actions1[row]);
    rewards0[row] = pair[0];
    rewards1[row] = pair[1];
    terminated[row] = true;
  }
}

void MatrixGameEnv::ResetRows(const BatchRows& rows) {
  // Reset for every row: the observations are 0, as they were cleared.
  float* observations0 = rows.out.observation[0];
  float* observations1 = rows.out.observation[1];
  for (const int64_t row : rows.rows) {
    observations0[row] = 0.0f;
    observations1[row] = 0.0f;
  }
}

MARL_REGISTER_ENV({MatrixGameEnv::kName,
                   "one-shot two-player matrix game (presets or custom "
                   "payoffs)",
                   MatrixGameEnv::SettingDecls(), MatrixGameEnv::Create,
                   MatrixGameEnv::EstimateCopyBytes});

}  // namespace marl
