#ifndef MARL_ENVS_QUADRATICS_MAX_OF_TWO_QUADRATICS_H_
#define MARL_ENVS_QUADRATICS_MAX_OF_TWO_QUADRATICS_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "envs/core/env.h"
#include "envs/core/settings.h"

namespace marl {

// `max_of_two_quadratics` (PR2 §5.2, ROMMEO §5.2): a one-shot cooperative
// game. player_0 and player_1 each pick a1, a2 in Box([1], -10, 10); both get
//
//   f1 = 0.8 * (-((a1 + 5) / 3)^2 - ((a2 + 5) / 3)^2)   variant "paper"
//   f1 = 0.8 * (-(a1 + 5)^2 / 3 - (a2 + 5)^2 / 3)       variant "code"
//   f2 = -(a1 - 5)^2 - (a2 - 5)^2 + 10
//   r  = max(f1, f2)
//
// a wide local optimum 0 at (-5,-5) and a narrow global optimum 10 at (5,5)
// (the authors' code divides by 3 instead of 9, narrowing the left basin).
// Setting zero_sum=true makes it the zero-sum game of the thesis' Balancing-Q
// experiments: player_0 still gets r, player_1 gets -r. In the paper variant
// that game has a pure saddle point at (5, 10), value -15 for player_0; in
// the code variant there is none (player_0's maximin: a1 = 2.45, -21.5;
// player_1's minimax: a2 = 10, -15).
// Every step terminates. The observation is a constant 0 in Box([1], 0, 1):
// [0, 1] rather than [0, 0] so that normalisers dividing by high - low stay
// finite.
class MaxOfTwoQuadraticsEnv : public Env {
 public:
  static constexpr char kName[] = "max_of_two_quadratics";
  enum class Variant { kPaper, kCode };

  static std::vector<SettingDecl> SettingDecls();
  static absl::StatusOr<std::unique_ptr<Env>> Create(const Settings& settings);
  // The registry's per-copy estimate (a fixed few kilobytes).
  static absl::StatusOr<int64_t> EstimateCopyBytes(const Settings& settings);

  // player_0's reward at (a1, a2) (also player_1's unless zero_sum).
  static double Reward(Variant variant, double a1, double a2);

  explicit MaxOfTwoQuadraticsEnv(Variant variant, bool zero_sum = false);

  const EnvSpec& spec() const override { return spec_; }
  void Reset(const Output& out) override;
  void Step(const Actions& actions, const Output& out) override;

 private:
  static absl::StatusOr<Variant> ParseVariant(const Settings& settings);
  static Space ObservationSpace();
  static Space ActionSpace();

  Variant variant_;
  bool zero_sum_;
  EnvSpec spec_;
};

}  // namespace marl

#endif  // MARL_ENVS_QUADRATICS_MAX_OF_TWO_QUADRATICS_H_
