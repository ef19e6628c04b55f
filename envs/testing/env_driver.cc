#include "envs/testing/env_driver.h"

#include <algorithm>

namespace marl {

EnvDriver::EnvDriver(Env* env) : env_(env), layout_(env->spec()) {
  const EnvSpec& spec = env_->spec();
  const int n = spec.num_agents();
  observation_.resize(n);
  reward_.resize(n);
  for (int agent = 0; agent < n; ++agent) {
    observation_[agent].resize(layout_.observation_size[agent]);
    buffers_.observation.push_back(observation_[agent].data());
    buffers_.reward.push_back(&reward_[agent]);
    if (layout_.mask_size[agent] > 0) {
      mask_.push_back(std::make_unique<bool[]>(layout_.mask_size[agent]));
      buffers_.action_mask.push_back(mask_.back().get());
    } else {
      mask_.push_back(nullptr);
      buffers_.action_mask.push_back(nullptr);
    }
  }
  public_.resize(layout_.public_observation_size);
  state_.resize(layout_.state_size);
  info_.resize(layout_.info_size);
  buffers_.terminated = &terminated_;
  buffers_.truncated = &truncated_;
  buffers_.episode_step = &episode_step_;
  if (spec.has_public_observation) buffers_.public_observation = public_.data();
  if (spec.has_state) buffers_.state = state_.data();
  if (spec.sequential) buffers_.current_agent = &current_agent_;
  buffers_.info = info_.data();
}

void EnvDriver::Clear() {
  // What the batch runner promises an env before Reset and Step.
  for (auto& obs : observation_) std::fill(obs.begin(), obs.end(), 0.0f);
  std::fill(reward_.begin(), reward_.end(), 0.0f);
  for (size_t agent = 0; agent < mask_.size(); ++agent) {
    if (mask_[agent]) {
      std::fill(mask_[agent].get(),
                mask_[agent].get() + layout_.mask_size[agent], true);
    }
  }
  terminated_ = false;
  truncated_ = false;
  std::fill(public_.begin(), public_.end(), 0.0f);
  std::fill(state_.begin(), state_.end(), 0.0f);
  std::fill(info_.begin(), info_.end(), 0.0f);
  current_agent_ = 0;
}

void EnvDriver::Reset() {
  Clear();
  env_->Reset(Output(buffers_, layout_, 0));
}

void EnvDriver::Step(const std::vector<std::vector<int64_t>>& discrete,
                     const std::vector<std::vector<float>>& continuous) {
  const int n = spec().num_agents();
  BatchActions actions;
  actions.discrete.assign(n, nullptr);
  actions.continuous.assign(n, nullptr);
  for (int agent = 0; agent < n; ++agent) {
    if (spec().action_spaces[agent].is_integer()) {
      actions.discrete[agent] = discrete[agent].data();
    } else {
      actions.continuous[agent] = continuous[agent].data();
    }
  }
  Clear();
  env_->Step(Actions(actions, layout_, 0), Output(buffers_, layout_, 0));
}

void EnvDriver::StepDiscrete(const std::vector<int64_t>& actions) {
  std::vector<std::vector<int64_t>> discrete;
  for (int64_t a : actions) discrete.push_back({a});
  Step(discrete, std::vector<std::vector<float>>(actions.size()));
}

void EnvDriver::StepContinuous(const std::vector<float>& actions) {
  std::vector<std::vector<float>> continuous;
  for (float a : actions) continuous.push_back({a});
  Step(std::vector<std::vector<int64_t>>(actions.size()), continuous);
}

std::vector<bool> EnvDriver::action_mask(int agent) const {
  if (!mask_[agent]) return {};
  return std::vector<bool>(mask_[agent].get(),
                           mask_[agent].get() + layout_.mask_size[agent]);
}

}  // namespace marl
