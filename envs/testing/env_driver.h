#ifndef MARL_ENVS_TESTING_ENV_DRIVER_H_
#define MARL_ENVS_TESTING_ENV_DRIVER_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "envs/core/env.h"

namespace marl {

// Drives one Env copy directly, without the batch runner: owns one row of
// buffers, clears it the way the runner does before every call, and exposes
// what the env wrote. For unit tests that check an env's arithmetic; it does
// not count steps, truncate or auto-reset (use LocalBatch for that).
class EnvDriver {
 public:
  explicit EnvDriver(Env* env);

  const EnvSpec& spec() const { return env_->spec(); }

  void Reset();
  // One action per agent: `discrete[agent]` for Discrete/MultiDiscrete
  // agents, `continuous[agent]` for Box agents (the other may be empty or
  // hold anything for that agent).
  void Step(const std::vector<std::vector<int64_t>>& discrete,
            const std::vector<std::vector<float>>& continuous);
  // Shorthands: one Discrete action per agent, or one 1-element Box action
  // per agent.
  void StepDiscrete(const std::vector<int64_t>& actions);
  void StepContinuous(const std::vector<float>& actions);

  const std::vector<float>& observation(int agent) const {
    return observation_[agent];
  }
  float reward(int agent) const { return reward_[agent]; }
  bool terminated() const { return terminated_; }
  const std::vector<float>& info() const { return info_; }
  const std::vector<float>& public_observation() const { return public_; }
  const std::vector<float>& state() const { return state_; }
  int32_t current_agent() const { return current_agent_; }
  // Mask of a Discrete agent when the spec has masks (1 = legal), else empty.
  std::vector<bool> action_mask(int agent) const;

 private:
  void Clear();

  Env* env_;
  BatchLayout layout_;
  std::vector<std::vector<float>> observation_;
  std::vector<float> reward_;
  std::vector<std::unique_ptr<bool[]>> mask_;
  bool terminated_ = false;
  bool truncated_ = false;
  int32_t episode_step_ = 0;
  std::vector<float> public_, state_, info_;
  int32_t current_agent_ = 0;
  BatchBuffers buffers_;
};

}  // namespace marl

#endif  // MARL_ENVS_TESTING_ENV_DRIVER_H_
