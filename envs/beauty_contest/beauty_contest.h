#ifndef MARL_ENVS_BEAUTY_CONTEST_BEAUTY_CONTEST_H_
#define MARL_ENVS_BEAUTY_CONTEST_BEAUTY_CONTEST_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "envs/core/env.h"
#include "envs/core/settings.h"

namespace marl {

// `beauty_contest` (Keynes beauty contest, GR2): agents player_0 ..
// player_{n-1} each guess x_i in Box([1], 0, 100) once; with
// target = p * mean(x) (own guess included) each gets
//
//   "absolute": -|x_i - target|
//   "squared":  -(x_i - target)^2
//   "closest":  1 if x_i is (one of) the closest to target, else 0; ties
//               all get 1. Distances within 1e-9 * max(1, target) of the
//               smallest count as ties, so the rounding of p * mean cannot
//               split guesses symmetric about the target.
//
// Every step terminates; info key "target" carries the target. The
// observation is a constant 0 in Box([1], 0, 1).
//
// Settings: num_agents (int, default 10, in [2, 2^31)), p (double, default
// 0.7, in [0, 1e27], or [0, 1e12] for "squared": every reward and the
// target stay within kMaxAbsReward = 1e30), reward (string, default
// "absolute").
class BeautyContestEnv : public Env {
 public:
  static constexpr char kName[] = "beauty_contest";
  enum class Reward { kAbsolute, kSquared, kClosest };

  static std::vector<SettingDecl> SettingDecls();
  static absl::StatusOr<std::unique_ptr<Env>> Create(const Settings& settings);
  // The registry's per-copy estimate: per agent an id, two spaces and two
  // doubles of scratch (about 0.5 KB).
  static absl::StatusOr<int64_t> EstimateCopyBytes(const Settings& settings);

  // Computes the target and writes one reward per guess into `rewards`.
  static double Score(Reward reward, double p, const std::vector<double>& x,
                      std::vector<double>* rewards);

  BeautyContestEnv(int num_agents, double p, Reward reward);

  const EnvSpec& spec() const override { return spec_; }
  void Reset(const Output& out) override;
  void Step(const Actions& actions, const Output& out) override;

 private:
  // INVALID_ARGUMENT naming the setting out of range; the reward kind.
  static absl::Status CheckSettings(const Settings& settings, Reward* reward);
  static Space ObservationSpace();
  static Space ActionSpace();

  double p_;
  Reward reward_;
  EnvSpec spec_;
  // Scratch reused across steps: no allocation on the hot path.
  std::vector<double> guesses_, rewards_;
};

}  // namespace marl

#endif  // MARL_ENVS_BEAUTY_CONTEST_BEAUTY_CONTEST_H_
