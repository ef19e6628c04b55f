#include "envs/quadratics/max_of_two_quadratics.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "envs/core/memory_estimate.h"
#include "envs/core/registry.h"

namespace marl {

std::vector<SettingDecl> MaxOfTwoQuadraticsEnv::SettingDecls() {
  return {{"variant",
           "\"paper\": f1 divides the squares by 9; \"code\": by 3, as the "
           "authors' code does",
           std::string("paper")},
          {"zero_sum",
           "true: player_1 gets the negation of player_0's reward (a "
           "zero-sum game); false: both get the same reward",
           false}};
}

absl::StatusOr<MaxOfTwoQuadraticsEnv::Variant>
MaxOfTwoQuadraticsEnv::ParseVariant(const Settings& settings) {
  const std::string& name = settings.GetString("variant");
  if (name == "paper") return Variant::kPaper;
  if (name == "code") return Variant::kCode;
  return absl::InvalidArgumentError(absl::StrCat(
      "variant must be \"paper\" or \"code\", got \"", name, "\""));
}

absl::StatusOr<std::unique_ptr<Env>> MaxOfTwoQuadraticsEnv::Create(
    const Settings& settings) {
  // Rewards need no range check: with actions in [-10, 10], |r| <= 120.
  absl::StatusOr<Variant> variant = ParseVariant(settings);
  if (!variant.ok()) return variant.status();
  return std::make_unique<MaxOfTwoQuadraticsEnv>(*variant,
                                                 settings.GetBool("zero_sum"));
}

absl::StatusOr<int64_t> MaxOfTwoQuadraticsEnv::EstimateCopyBytes(
    const Settings& settings) {
  absl::StatusOr<Variant> variant = ParseVariant(settings);
  if (!variant.ok()) return variant.status();
  // Mirrors the constructor's spec: two ids, two spaces of each kind.
  return ByteEstimate()
      .AddObject(sizeof(MaxOfTwoQuadraticsEnv))
      .AddArray(2, sizeof(std::string))
      .AddStrings(2, 8)
      .AddArray(2, sizeof(Space))
      .AddSpaces(2, ObservationSpace())
      .AddArray(2, sizeof(Space))
      .AddSpaces(2, ActionSpace())
      .Total();
}

Space MaxOfTwoQuadraticsEnv::ObservationSpace() {
  return Space::Box({1}, {0.0f}, {1.0f});
}

Space MaxOfTwoQuadraticsEnv::ActionSpace() {
  return Space::Box({1}, {-10.0f}, {10.0f});
}

double MaxOfTwoQuadraticsEnv::Reward(Variant variant, double a1, double a2) {
  const double divisor = variant == Variant::kPaper ? 9.0 : 3.0;
  const double f1 =
      0.8 * (-(a1 + 5) * (a1 + 5) / divisor - (a2 + 5) * (a2 + 5) / divisor);
  const double f2 = -(a1 - 5) * (a1 - 5) - (a2 - 5) * (a2 - 5) + 10;
  return std::max(f1, f2);
}

MaxOfTwoQuadraticsEnv::MaxOfTwoQuadraticsEnv(Variant variant, bool zero_sum)
    : variant_(variant), zero_sum_(zero_sum) {
  spec_.agent_ids = {"player_0", "player_1"};
  const Space observation = ObservationSpace();
  const Space action = ActionSpace();
  spec_.observation_spaces = {observation, observation};
  spec_.action_spaces = {action, action};
  spec_.episode_limit = 0;  // one step, ended by termination
}

void MaxOfTwoQuadraticsEnv::Reset(const Output& out) {
  out.observation(0)[0] = 0.0f;
  out.observation(1)[0] = 0.0f;
}

void MaxOfTwoQuadraticsEnv::Step(const Actions& actions, const Output& out) {
  const float reward = static_cast<float>(
      Reward(variant_, actions.continuous(0)[0], actions.continuous(1)[0]));
  out.set_reward(0, reward);
  out.set_reward(1, zero_sum_ ? -reward : reward);
  out.observation(0)[0] = 0.0f;
  out.observation(1)[0] = 0.0f;
  out.set_terminated(true);
}

MARL_REGISTER_ENV({MaxOfTwoQuadraticsEnv::kName,
                   "one-shot cooperative game: shared reward max of two "
                   "quadratics, local optimum 0, global optimum 10 "
                   "(zero_sum=true: player_1 gets the negation)",
                   MaxOfTwoQuadraticsEnv::SettingDecls(),
                   MaxOfTwoQuadraticsEnv::Create,
                   MaxOfTwoQuadraticsEnv::EstimateCopyBytes});

}  // namespace marl
