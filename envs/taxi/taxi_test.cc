#include "envs/taxi/taxi.h"

#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "envs/core/registry.h"
#include "envs/testing/copy_bytes_check.h"
#include "envs/testing/env_checks.h"
#include "envs/testing/env_driver.h"
#include "gtest/gtest.h"

namespace marl {
namespace {

using SettingMap = std::map<std::string, SettingValue>;
using State = TaxiEnv::State;
constexpr int64_t kNoop = TaxiEnv::kNoop;
constexpr int64_t kUp = TaxiEnv::kUp;
constexpr int64_t kDown = TaxiEnv::kDown;
constexpr int64_t kRight = TaxiEnv::kRight;
constexpr int64_t kLeft = TaxiEnv::kLeft;
constexpr int64_t kToggle = TaxiEnv::kToggle;

std::unique_ptr<Env> Make(const SettingMap& settings = {}) {
  absl::StatusOr<std::unique_ptr<Env>> env =
      EnvRegistry::Global().Make("taxi", settings);
  EXPECT_TRUE(env.ok()) << env.status();
  return env.ok() ? *std::move(env) : nullptr;
}

absl::Status MakeError(const SettingMap& settings) {
  absl::StatusOr<std::unique_ptr<Env>> env =
      EnvRegistry::Global().Make("taxi", settings);
  return env.ok() ? absl::OkStatus() : env.status();
}

// One copy placed in `state`, stepped by hand.
class Taxi {
 public:
  explicit Taxi(const State& state, const SettingMap& settings = {})
      : env_(Make(settings)), driver_(env_.get()) {
    driver_.Reset();
    taxi()->SetStateForTesting(state);
  }
  TaxiEnv* taxi() { return static_cast<TaxiEnv*>(env_.get()); }
  // Steps; returns the reward.
  float Step(int64_t action) {
    driver_.StepDiscrete({action});
    return driver_.reward(0);
  }
  const State& state() { return taxi()->state(); }
  EnvDriver& driver() { return driver_; }

 private:
  std::unique_ptr<Env> env_;
  EnvDriver driver_;
};

State At(int x, int y, int task, bool in_taxi) {
  State s;
  s.x = x;
  s.y = y;
  s.task = task;
  s.in_taxi = in_taxi;
  return s;
}

TEST(TaxiTest, DefaultSpec) {
  std::unique_ptr<Env> env = Make();
  const EnvSpec& spec = env->spec();
  ASSERT_EQ(spec.agent_ids, std::vector<std::string>{"taxi"});
  EXPECT_EQ(spec.observation_spaces[0], Space::Box({65}, {0.0f}, {1.0f}));
  EXPECT_EQ(spec.action_spaces[0], Space::Discrete(6));
  EXPECT_EQ(spec.episode_limit, 50);
  EXPECT_EQ(spec.info_keys, (std::vector<std::string>{"task", "success"}));
  EXPECT_EQ(static_cast<TaxiEnv*>(env.get())->tasks().size(), 12u);
}

TEST(TaxiTest, TaskListsByName) {
  absl::StatusOr<TaxiMap> map = TaxiMap::Parse(TaxiMap::kDefault);
  ASSERT_TRUE(map.ok());
  absl::StatusOr<std::vector<TaxiEnv::Task>> all =
      TaxiEnv::ParseTasks("all", *map);
  ASSERT_TRUE(all.ok());
  std::string names;
  for (const TaxiEnv::Task& t : *all) {
    names += map->depot_letters()[t.pickup];
    names += map->depot_letters()[t.goal];
    names += ' ';
  }
  EXPECT_EQ(names, "RG RY RB GR GY GB YR YG YB BR BG BY ");
  absl::StatusOr<std::vector<TaxiEnv::Task>> two =
      TaxiEnv::ParseTasks("YB/GR", *map);
  ASSERT_TRUE(two.ok());
  ASSERT_EQ(two->size(), 2u);
  EXPECT_EQ((*two)[0].pickup, 2);
  EXPECT_EQ((*two)[0].goal, 3);
  EXPECT_EQ((*two)[1].pickup, 1);
  EXPECT_EQ((*two)[1].goal, 0);
}

TEST(TaxiTest, BadSettingsGetClearErrors) {
  auto message = [](const SettingMap& s) {
    return std::string(MakeError(s).message());
  };
  EXPECT_NE(message({{"tasks", std::string("RQ")}}).find("unknown depot"),
            std::string::npos);
  EXPECT_NE(message({{"tasks", std::string("RR")}}).find("one depot"),
            std::string::npos);
  EXPECT_NE(message({{"tasks", std::string("RG/")}}).find("not a pair"),
            std::string::npos);
  EXPECT_NE(message({{"tasks", std::string("R-G")}}).find("not a pair"),
            std::string::npos);
  std::string many = "RG";
  for (int i = 0; i < 1024; ++i) many += "/RG";
  EXPECT_NE(message({{"tasks", many}}).find("at most 1024 pairs"),
            std::string::npos);
  EXPECT_NE(message({{"map", std::string("A.#.B")}}).find("no road"),
            std::string::npos);
  EXPECT_NE(message({{"map", std::string("A...")}}).find("two depots"),
            std::string::npos);
  EXPECT_NE(message({{"goal_reward", 1e300}}).find("goal_reward"),
            std::string::npos);
  EXPECT_NE(message({{"step_reward", std::nan("")}}).find("step_reward"),
            std::string::npos);
  EXPECT_NE(message({{"max_steps", int64_t{0}}}).find("max_steps"),
            std::string::npos);
  EXPECT_NE(message({{"passenger_in_taxi", 1.5}}).find("passenger_in_taxi"),
            std::string::npos);
  EXPECT_NE(
      message({{"passenger_in_taxi", std::nan("")}}).find("passenger_in_taxi"),
      std::string::npos);
  EXPECT_NE(message({{"hard", true}, {"passenger_in_taxi", 1.0}})
                .find("hard=true means passenger_in_taxi=0"),
            std::string::npos);
  EXPECT_TRUE(MakeError({{"hard", true}, {"passenger_in_taxi", 0.0}}).ok());
  // One task on a map with one pair of depots is fine.
  EXPECT_TRUE(
      MakeError({{"map", std::string("A..B")}, {"tasks", std::string("AB")}})
          .ok());
}

TEST(TaxiTest, MovesAndWalls) {
  // Task 0 is RG; the taxi at (2, 2) below the road cell (2, 1).
  Taxi t(At(2, 2, 0, false));
  EXPECT_FLOAT_EQ(t.Step(kUp), -0.1f);
  EXPECT_EQ(t.state().y, 1);
  // (3, 1) is a wall: blocked, invalid.
  EXPECT_FLOAT_EQ(t.Step(kRight), -0.1f);
  EXPECT_EQ(t.state().x, 2);
  // The border above: blocked.
  t.Step(kUp);
  EXPECT_EQ(t.state().y, 1);
  t.Step(kLeft);
  EXPECT_EQ(t.state().x, 1);  // on depot R
  t.Step(kDown);
  EXPECT_EQ(t.state().y, 2);
  EXPECT_FLOAT_EQ(t.Step(kNoop), -0.1f);
  EXPECT_EQ(t.state().x, 1);
  EXPECT_EQ(t.state().y, 2);
  EXPECT_FALSE(t.driver().terminated());
}

TEST(TaxiTest, DistinctRewardsShowWhichRuleApplied) {
  const SettingMap rewards = {
      {"step_reward", -0.5}, {"invalid_reward", -3.0}, {"goal_reward", 7.0}};
  Taxi t(At(2, 1, 0, false), rewards);
  EXPECT_FLOAT_EQ(t.Step(kRight), -3.0f);   // wall
  EXPECT_FLOAT_EQ(t.Step(kToggle), -3.0f);  // not at the pickup
  EXPECT_FLOAT_EQ(t.Step(kLeft), -0.5f);    // to R
  EXPECT_FLOAT_EQ(t.Step(kToggle), -0.5f);  // picked up
  EXPECT_TRUE(t.state().in_taxi);
  EXPECT_FLOAT_EQ(t.Step(kToggle), -3.0f);  // R is not the goal: stays in
  EXPECT_TRUE(t.state().in_taxi);
  EXPECT_FALSE(t.driver().terminated());
}

TEST(TaxiTest, PickUpThenDropOffAtTheGoalEndsTheEpisode) {
  // Task RG: pick up at R (1, 1), drop off at G (6, 1). The wall column at
  // x = 3 (rows 1-2) forces a detour through row 3.
  Taxi t(At(1, 2, 0, false));
  float total = 0;
  for (int64_t a : {kUp, kToggle, kDown, kDown, kRight, kRight, kRight, kRight,
                    kRight, kUp, kUp}) {
    total += t.Step(a);
    EXPECT_FALSE(t.driver().terminated());
  }
  EXPECT_EQ(t.state().x, 6);
  EXPECT_EQ(t.state().y, 1);
  EXPECT_TRUE(t.state().in_taxi);
  EXPECT_FLOAT_EQ(total, -1.1f);
  EXPECT_FLOAT_EQ(t.Step(kToggle), 2.0f);
  EXPECT_TRUE(t.driver().terminated());
  EXPECT_EQ(t.driver().info()[0], 0.0f);  // task RG
  EXPECT_EQ(t.driver().info()[1], 1.0f);  // success
  EXPECT_FALSE(t.state().in_taxi);
}

TEST(TaxiTest, AnEmptyTaxiCannotDropOffAndAFullOneCannotPickUp) {
  // At the goal G without the passenger: invalid.
  Taxi empty(At(6, 1, 0, false));
  EXPECT_FLOAT_EQ(empty.Step(kToggle), -0.1f);
  EXPECT_FALSE(empty.driver().terminated());
  // Task GR with the passenger already in: at G (its pickup) invalid.
  Taxi full(At(6, 1, 3, true));
  EXPECT_FLOAT_EQ(full.Step(kToggle), -0.1f);
  EXPECT_TRUE(full.state().in_taxi);
}

TEST(TaxiTest, ObservationIsTheCellOneHotAndThePassengerFlag) {
  Taxi t(At(4, 3, 5, true), {{"observe_task", true}});
  t.Step(kNoop);
  const std::vector<float>& obs = t.driver().observation(0);
  ASSERT_EQ(obs.size(), 64u + 1 + 12);
  for (int i = 0; i < 64; ++i) EXPECT_EQ(obs[i], i == 3 * 8 + 4 ? 1 : 0) << i;
  EXPECT_EQ(obs[64], 1.0f);
  for (int k = 0; k < 12; ++k) EXPECT_EQ(obs[65 + k], k == 5 ? 1 : 0) << k;
  EXPECT_EQ(t.driver().info()[0], 5.0f);
}

// task_encoding=depots: the pickup depot's one-hot, then the goal's, in the
// map's depot order (R, G, Y, B), whatever the task list.
TEST(TaxiTest, DepotEncodingOfTheTask) {
  Taxi all(At(4, 3, 5, true),  // task 5 of "all": GB
           {{"observe_task", true}, {"task_encoding", std::string("depots")}});
  all.Step(kNoop);
  const std::vector<float>& obs = all.driver().observation(0);
  ASSERT_EQ(obs.size(), 64u + 1 + 8);
  for (int k = 0; k < 8; ++k) {
    EXPECT_EQ(obs[65 + k], k == 1 || k == 4 + 3 ? 1 : 0) << k;
  }
  Taxi listed(At(4, 3, 1, true), {{"observe_task", true},
                                  {"task_encoding", std::string("depots")},
                                  {"tasks", std::string("RG/YG")}});
  listed.Step(kNoop);
  const std::vector<float>& yg = listed.driver().observation(0);
  ASSERT_EQ(yg.size(), 64u + 1 + 8);
  for (int k = 0; k < 8; ++k) {
    EXPECT_EQ(yg[65 + k], k == 2 || k == 4 + 1 ? 1 : 0) << k;
  }
  // Without observe_task the encoding adds nothing; a bad name is refused.
  EXPECT_EQ(Make({{"task_encoding", std::string("depots")}})
                ->spec()
                .observation_spaces[0]
                .FlatSize(),
            65);
  EXPECT_NE(MakeError({{"task_encoding", std::string("pairs")}})
                .message()
                .find("task_encoding must be"),
            std::string::npos);
}

// Resets draw the start cell uniformly over the 26 non-depot road cells,
// the task over the 12, and the passenger in the taxi half the time
// (never in the hard variant).
TEST(TaxiTest, ResetDistribution) {
  for (bool hard : {false, true}) {
    std::unique_ptr<Env> env = Make({{"hard", hard}});
    auto* taxi = static_cast<TaxiEnv*>(env.get());
    EnvDriver driver(env.get());
    env->Seed(5);
    std::map<int, int> cells, tasks;
    int in_taxi = 0;
    const int resets = 5200;
    for (int i = 0; i < resets; ++i) {
      driver.Reset();
      const State& s = taxi->state();
      ++cells[taxi->map().Cell(s.x, s.y)];
      ++tasks[s.task];
      in_taxi += s.in_taxi;
    }
    ASSERT_EQ(cells.size(), 26u);
    for (const auto& [cell, count] : cells) {
      EXPECT_NE(taxi->map().DepotIndex('R'), -1);
      for (int depot : taxi->map().depot_cells()) EXPECT_NE(cell, depot);
      EXPECT_NEAR(count, resets / 26.0, 5 * std::sqrt(resets / 26.0));
    }
    ASSERT_EQ(tasks.size(), 12u);
    for (const auto& [task, count] : tasks) {
      EXPECT_NEAR(count, resets / 12.0, 5 * std::sqrt(resets / 12.0));
    }
    if (hard) {
      EXPECT_EQ(in_taxi, 0);
    } else {
      EXPECT_NEAR(in_taxi, resets / 2.0, 5 * std::sqrt(resets / 4.0));
    }
  }
}

// passenger_in_taxi sets the share of episodes that start with the
// passenger aboard: 1 always (the drop-off legs alone), 0 never, with the
// same episodes as hard. (At the default 1/2 the draw is the coin flip it
// replaced: RandomDrawsTest.BernoulliTakesOneDrawAndHitsItsRate.)
TEST(TaxiTest, PassengerInTaxiProbability) {
  auto share = [](const SettingMap& settings, std::vector<int>* starts) {
    std::unique_ptr<Env> env = Make(settings);
    auto* taxi = static_cast<TaxiEnv*>(env.get());
    EnvDriver driver(env.get());
    env->Seed(9);
    int in_taxi = 0;
    const int resets = 4000;
    for (int i = 0; i < resets; ++i) {
      driver.Reset();
      const State& s = taxi->state();
      in_taxi += s.in_taxi;
      if (starts != nullptr) {
        starts->push_back(taxi->map().Cell(s.x, s.y) * 64 + s.task * 2 +
                          s.in_taxi);
      }
    }
    return static_cast<double>(in_taxi) / resets;
  };
  EXPECT_EQ(share({{"passenger_in_taxi", 1.0}}, nullptr), 1.0);
  EXPECT_EQ(share({{"passenger_in_taxi", 0.0}}, nullptr), 0.0);
  EXPECT_NEAR(share({{"passenger_in_taxi", 0.25}}, nullptr), 0.25, 0.035);
  std::vector<int> hard, zero;
  share({{"hard", true}}, &hard);
  share({{"passenger_in_taxi", 0.0}}, &zero);
  EXPECT_EQ(hard, zero);
}

TEST(TaxiTest, EstimateBoundsWhatACopyHolds) {
  for (const SettingMap& settings :
       {SettingMap{}, SettingMap{{"observe_task", true}},
        SettingMap{{"observe_task", true},
                   {"task_encoding", std::string("depots")}},
        SettingMap{{"map", std::string("A..B")}, {"tasks", std::string("AB")}},
        SettingMap{{"map", std::string("ABCDEFGHIJ........../KLMNOPQRST"
                                       "..........")}}}) {
    absl::StatusOr<CopyBytesMeasurement> check =
        CheckCopyBytesEstimate("taxi", settings, /*max_factor=*/1.1);
    EXPECT_TRUE(check.ok()) << check.status();
  }
}

TEST(TaxiTest, PassesGenericChecks) {
  EnvCheckOptions options;
  options.stochastic = true;  // starts and tasks follow the seed
  options.num_episodes = 40;
  absl::Status s = RunEnvChecks("taxi", options);
  EXPECT_TRUE(s.ok()) << s;
  options.settings = {{"observe_task", true}, {"hard", true}};
  s = RunEnvChecks("taxi", options);
  EXPECT_TRUE(s.ok()) << s;
}

}  // namespace
}  // namespace marl
