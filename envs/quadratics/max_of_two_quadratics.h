#ifndef MARL_ENVS_QUADRATICS_MAX_OF_TWO_QUADRATICS_H_
#define MARL_ENVS_QUADRATICS_MAX_OF_TWO_QUADRATICS_H_

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
// Every step terminates. The observation is a constant 0 in Box([1], 0, 1):
// [0, 1] rather than [0, 0] so that normalisers dividing by high - low stay
// finite.
class MaxOfTwoQuadraticsEnv : public Env {
 public:
  static constexpr char kName[] = "max_of_two_quadratics";
  enum class Variant { kPaper, kCode };

  static std::vector<SettingDecl> SettingDecls();
  static absl::StatusOr<std::unique_ptr<Env>> Create(const Settings& settings);

  // The shared reward at (a1, a2).
  static double Reward(Variant variant, double a1, double a2);

  explicit MaxOfTwoQuadraticsEnv(Variant variant);

  const EnvSpec& spec() const override { return spec_; }
  void Reset(const Output& out) override;
  void Step(const Actions& actions, const Output& out) override;

 private:
  Variant variant_;
  EnvSpec spec_;
};

}  // namespace marl

#endif  // MARL_ENVS_QUADRATICS_MAX_OF_TWO_QUADRATICS_H_
