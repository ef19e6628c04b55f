// The checks must pass on well-behaved envs and catch broken ones; each
// broken env below breaks exactly one rule.
#include "envs/testing/env_checks.h"

#include <memory>
#include <random>
#include <string>

#include "envs/core/env.h"
#include "envs/core/registry.h"
#include "gtest/gtest.h"

namespace marl {
namespace {

// A stochastic env using most spec features: agent 0 Discrete(3) with
// action 2 illegal on odd steps, agent 1 Box([2], -1, 1); public
// observation, state, info; ends at random (1 in 5) or by the limit 8.
class GoodEnv : public Env {
 public:
  enum class Flaw {
    kNone,
    kObservationOutOfSpace,
    kGlobalRandomness,
    kNeverEnds,
    kIgnoresSeed
  };

  explicit GoodEnv(Flaw flaw) : flaw_(flaw) {
    spec_.agent_ids = {"a", "b"};
    spec_.observation_spaces = {Space::Discrete(4),
                                Space::Box({2}, {0.0f}, {100.0f})};
    spec_.action_spaces = {Space::Discrete(3),
                           Space::Box({2}, {-1.0f}, {1.0f})};
    spec_.has_action_masks = true;
    spec_.has_public_observation = true;
    spec_.public_observation_space = Space::Box({1}, {0.0f}, {10.0f});
    spec_.has_state = true;
    spec_.state_space = Space::MultiDiscrete({3, 100});
    spec_.episode_limit = flaw == Flaw::kNeverEnds ? 0 : 8;
    spec_.info_keys = {"sum"};
  }
  const EnvSpec& spec() const override { return spec_; }
  void Reset(const Output& out) override {
    count_ = 0;
    Write(out, 0);
  }
  void Step(const Actions& actions, const Output& out) override {
    ++count_;
    const int draw = Draw();
    out.set_reward(0, static_cast<float>(actions.discrete(0)));
    out.set_reward(1, actions.continuous(1)[0] + actions.continuous(1)[1]);
    out.info()[0] = actions.discrete(0) + actions.continuous(1)[0];
    if (flaw_ != Flaw::kNeverEnds) out.set_terminated(draw % 5 == 0);
    Write(out, draw);
  }

 private:
  int Draw() {
    static int global_counter = 0;  // the kGlobalRandomness flaw
    if (flaw_ == Flaw::kGlobalRandomness) return ++global_counter % 100;
    if (flaw_ == Flaw::kIgnoresSeed) return (count_ * 37) % 100;
    return std::uniform_int_distribution<int>(0, 99)(rng());
  }
  void Write(const Output& out, int draw) {
    out.observation(0)[0] = flaw_ == Flaw::kObservationOutOfSpace && count_ == 3
                                ? 4.0f
                                : static_cast<float>(count_ % 4);
    out.observation(1)[0] = static_cast<float>(count_ % 101);
    out.observation(1)[1] = static_cast<float>(draw);
    out.public_observation()[0] = static_cast<float>(count_ % 11);
    out.state()[0] = static_cast<float>(count_ % 3);
    out.state()[1] = static_cast<float>(draw);
    out.action_mask(0)[2] = count_ % 2 == 0;
  }

  Flaw flaw_;
  EnvSpec spec_;
  int count_ = 0;
};

// Turn-based: agents alternate; the waiting agent's mask is all illegal,
// which is allowed (its action is ignored). Ends when the acting agent
// plays 1 or after 6 steps.
class TurnsEnv : public Env {
 public:
  TurnsEnv() {
    spec_.agent_ids = {"x", "o"};
    spec_.observation_spaces = {Space::Discrete(2), Space::Discrete(2)};
    spec_.action_spaces = {Space::Discrete(2), Space::Discrete(2)};
    spec_.has_action_masks = true;
    spec_.sequential = true;
    spec_.episode_limit = 6;
  }
  const EnvSpec& spec() const override { return spec_; }
  void Reset(const Output& out) override {
    turn_ = 0;
    Write(out);
  }
  void Step(const Actions& actions, const Output& out) override {
    out.set_terminated(actions.discrete(turn_) == 1);
    out.set_reward(turn_, 1.0f);
    turn_ = 1 - turn_;
    Write(out);
  }

 private:
  void Write(const Output& out) {
    out.set_current_agent(turn_);
    out.observation(0)[0] = static_cast<float>(turn_);
    out.observation(1)[0] = static_cast<float>(turn_);
    for (int a = 0; a < 2; ++a) out.action_mask(1 - turn_)[a] = false;
  }
  EnvSpec spec_;
  int turn_ = 0;
};

EnvFactory MakeGood(GoodEnv::Flaw flaw) {
  return [flaw](const Settings&) -> absl::StatusOr<std::unique_ptr<Env>> {
    return std::make_unique<GoodEnv>(flaw);
  };
}

MARL_REGISTER_ENV(
    {"checks_test_good", "well-behaved", {}, MakeGood(GoodEnv::Flaw::kNone)});
MARL_REGISTER_ENV({"checks_test_out_of_space",
                   "bad observation",
                   {},
                   MakeGood(GoodEnv::Flaw::kObservationOutOfSpace)});
MARL_REGISTER_ENV({"checks_test_global_rand",
                   "global randomness",
                   {},
                   MakeGood(GoodEnv::Flaw::kGlobalRandomness)});
MARL_REGISTER_ENV({"checks_test_never_ends",
                   "no termination, no limit",
                   {},
                   MakeGood(GoodEnv::Flaw::kNeverEnds)});
MARL_REGISTER_ENV({"checks_test_ignores_seed",
                   "deterministic",
                   {},
                   MakeGood(GoodEnv::Flaw::kIgnoresSeed)});
MARL_REGISTER_ENV({"checks_test_turns",
                   "turn-based",
                   {},
                   [](const Settings&) -> absl::StatusOr<std::unique_ptr<Env>> {
                     return std::make_unique<TurnsEnv>();
                   }});

EnvCheckOptions Stochastic() {
  EnvCheckOptions options;
  options.stochastic = true;
  return options;
}

TEST(EnvChecksTest, GoodEnvPassesEverything) {
  const absl::Status s = RunEnvChecks("checks_test_good", Stochastic());
  EXPECT_TRUE(s.ok()) << s;
}

TEST(EnvChecksTest, TurnBasedEnvPassesEverything) {
  const absl::Status s = RunEnvChecks("checks_test_turns");
  EXPECT_TRUE(s.ok()) << s;
}

TEST(EnvChecksTest, UnknownEnvIsNotFound) {
  EXPECT_EQ(CheckRegistration("no_such_env").code(),
            absl::StatusCode::kNotFound);
}

TEST(EnvChecksTest, CatchesObservationOutsideItsSpace) {
  const absl::Status s = CheckRandomPlay("checks_test_out_of_space");
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("observation of 'a'"), std::string::npos) << s;
}

TEST(EnvChecksTest, CatchesGlobalRandomness) {
  const absl::Status s =
      CheckDeterminism("checks_test_global_rand", Stochastic());
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("same seed, different"), std::string::npos) << s;
}

TEST(EnvChecksTest, CatchesEndlessEpisodes) {
  EnvCheckOptions options;
  options.max_episode_steps = 50;
  const absl::Status s = CheckRandomPlay("checks_test_never_ends", options);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("still running after 50"), std::string::npos) << s;
}

TEST(EnvChecksTest, CatchesWrongStochasticDeclaration) {
  // A stochastic env declared deterministic...
  absl::Status s = CheckDeterminism("checks_test_good");
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("declared deterministic"), std::string::npos) << s;
  // ...and a deterministic one declared stochastic.
  s = CheckDeterminism("checks_test_ignores_seed", Stochastic());
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("declared stochastic"), std::string::npos) << s;
  s = CheckDeterminism("checks_test_ignores_seed");
  EXPECT_TRUE(s.ok()) << s;
}

EnvSpec TwoAgentSpec() {
  EnvSpec spec;
  spec.agent_ids = {"a", "b"};
  spec.observation_spaces = {Space::Discrete(1), Space::Discrete(1)};
  spec.action_spaces = {Space::Discrete(2), Space::Box({1}, {0.0f}, {1.0f})};
  return spec;
}

TEST(EnvChecksTest, CheckSpecAcceptsAWellFormedSpec) {
  EXPECT_TRUE(CheckSpec(TwoAgentSpec()).ok());
}

TEST(EnvChecksTest, CheckSpecRejectsMalformedSpecs) {
  EnvSpec spec = TwoAgentSpec();
  spec.agent_ids = {"a", "a"};
  EXPECT_FALSE(CheckSpec(spec).ok());

  spec = TwoAgentSpec();
  spec.action_spaces.pop_back();
  EXPECT_FALSE(CheckSpec(spec).ok());

  spec = TwoAgentSpec();
  spec.action_spaces[1] = Space::Box({1}, {1.0f}, {0.0f});
  EXPECT_FALSE(CheckSpec(spec).ok());

  spec = TwoAgentSpec();
  spec.observation_spaces[0] = Space::Discrete(0);
  EXPECT_FALSE(CheckSpec(spec).ok());

  spec = TwoAgentSpec();
  spec.has_state = true;
  spec.state_space = Space::MultiDiscrete({});
  EXPECT_FALSE(CheckSpec(spec).ok());

  spec = TwoAgentSpec();
  spec.info_keys = {"x", "x"};
  EXPECT_FALSE(CheckSpec(spec).ok());

  spec = TwoAgentSpec();
  spec.episode_limit = -1;
  EXPECT_FALSE(CheckSpec(spec).ok());

  EXPECT_FALSE(CheckSpec(EnvSpec()).ok());
}

TEST(EnvChecksTest, DiscreteObservationsMustBeIntegersInRange) {
  const Space space = Space::Discrete(3);
  const float good = 2.0f, fractional = 1.5f, high = 3.0f, negative = -1.0f;
  EXPECT_TRUE(CheckObservationInSpace(space, &good).ok());
  EXPECT_FALSE(CheckObservationInSpace(space, &fractional).ok());
  EXPECT_FALSE(CheckObservationInSpace(space, &high).ok());
  EXPECT_FALSE(CheckObservationInSpace(space, &negative).ok());
  const float multi[2] = {1.0f, 4.0f};
  EXPECT_FALSE(
      CheckObservationInSpace(Space::MultiDiscrete({2, 4}), multi).ok());
}

TEST(EnvChecksTest, RandomActionsRespectSpacesAndMasks) {
  EnvSpec spec = TwoAgentSpec();
  spec.action_spaces[0] = Space::Discrete(4);
  spec.action_spaces[1] = Space::Box({2}, {-3.0f}, {5.0f});
  // Copy 0 may only play 2; copy 1 has no legal action (falls back to any).
  const std::vector<std::vector<bool>> masks = {
      {false, false, true, false, false, false, false, false}, {}};
  std::mt19937_64 rng(3);
  std::vector<std::vector<int64_t>> discrete;
  std::vector<std::vector<float>> continuous;
  bool saw_low = false, saw_high = false;
  for (int i = 0; i < 200; ++i) {
    SampleRandomActions(spec, 2, masks, rng, &discrete, &continuous);
    ASSERT_EQ(discrete[0].size(), 2u);
    EXPECT_EQ(discrete[0][0], 2);
    EXPECT_GE(discrete[0][1], 0);
    EXPECT_LT(discrete[0][1], 4);
    EXPECT_TRUE(continuous[0].empty());
    ASSERT_EQ(continuous[1].size(), 4u);
    for (float x : continuous[1]) {
      EXPECT_GE(x, -3.0f);
      EXPECT_LE(x, 5.0f);
      saw_low |= x == -3.0f;
      saw_high |= x == 5.0f;
    }
  }
  EXPECT_TRUE(saw_low);
  EXPECT_TRUE(saw_high);
}

}  // namespace
}  // namespace marl
