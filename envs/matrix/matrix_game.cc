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
  return std::make_unique<MatrixGameEnv>(*std::move(payoffs), reward_scale);
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
  absl::StatusOr<int64_t> payoff_bytes = PayoffCopyBytes(*summary);
  if (!payoff_bytes.ok()) return payoff_bytes.status();
  return ByteEstimate()
      .AddObject(sizeof(MatrixGameEnv))
      .AddBytes(1, *payoff_bytes)
      .Total();
}

MatrixGameEnv::MatrixGameEnv(PayoffMatrices payoffs, double reward_scale)
    : payoffs_(std::move(payoffs)), reward_scale_(reward_scale) {
  spec_.agent_ids = {"player_0", "player_1"};
  spec_.observation_spaces = {Space::Discrete(1), Space::Discrete(1)};
  spec_.action_spaces = {Space::Discrete(payoffs_.rows),
                         Space::Discrete(payoffs_.cols)};
  // One step, ended by termination: no limit needed.
  spec_.episode_limit = 0;
}

void MatrixGameEnv::Reset(const Output& out) {
  out.observation(0)[0] = 0.0f;
  out.observation(1)[0] = 0.0f;
}

void MatrixGameEnv::Step(const Actions& actions, const Output& out) {
  const int64_t a0 = actions.discrete(0);
  const int64_t a1 = actions.discrete(1);
  out.set_reward(
      0, static_cast<float>(reward_scale_ * payoffs_.RowPayoff(a0, a1)));
  out.set_reward(
      1, static_cast<float>(reward_scale_ * payoffs_.ColumnPayoff(a0, a1)));
  out.observation(0)[0] = 0.0f;
  out.observation(1)[0] = 0.0f;
  out.set_terminated(true);
}

MARL_REGISTER_ENV({MatrixGameEnv::kName,
                   "one-shot two-player matrix game (presets or custom "
                   "payoffs)",
                   MatrixGameEnv::SettingDecls(), MatrixGameEnv::Create,
                   MatrixGameEnv::EstimateCopyBytes});

}  // namespace marl
