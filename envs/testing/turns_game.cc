// `test_turns_game`, for tests of turn-based play: two agents take turns
// (player a first), four steps an episode; the agent whose turn it is
// earns 1 for action 1, and the other's action does nothing. Each agent
// sees whose turn it is (Discrete(2)); the public observation counts the
// episode's steps so far (0-4).
#include <memory>

#include "envs/core/env.h"
#include "envs/core/registry.h"

namespace marl {
namespace {

class TurnsGame : public Env {
 public:
  TurnsGame() {
    spec_.agent_ids = {"a", "b"};
    spec_.observation_spaces = {Space::Discrete(2), Space::Discrete(2)};
    spec_.action_spaces = {Space::Discrete(2), Space::Discrete(2)};
    spec_.sequential = true;
    spec_.episode_limit = 4;
    spec_.has_public_observation = true;
    spec_.public_observation_space = Space::Box({1}, {0.0f}, {4.0f});
  }
  const EnvSpec& spec() const override { return spec_; }
  void Reset(const Output& out) override {
    turn_ = 0;
    steps_ = 0;
    Show(out);
  }
  void Step(const Actions& actions, const Output& out) override {
    out.set_reward(turn_, actions.discrete(turn_) == 1 ? 1.0f : 0.0f);
    turn_ = 1 - turn_;
    ++steps_;
    Show(out);
  }

 private:
  void Show(const Output& out) {
    out.set_current_agent(turn_);
    out.observation(0)[0] = out.observation(1)[0] = turn_;
    out.public_observation()[0] = steps_;
  }
  EnvSpec spec_;
  int turn_ = 0;
  int steps_ = 0;
};

MARL_REGISTER_ENV({"test_turns_game",
                   "two agents taking turns (tests)",
                   {},
                   [](const Settings&) -> absl::StatusOr<std::unique_ptr<Env>> {
                     return std::make_unique<TurnsGame>();
                   }});

}  // namespace
}  // namespace marl
