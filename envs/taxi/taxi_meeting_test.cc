#include "envs/taxi/taxi_meeting.h"

#include <cmath>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "envs/core/env_batch.h"
#include "envs/core/message_channel.h"
#include "envs/core/random_draws.h"
#include "envs/core/registry.h"
#include "envs/testing/copy_bytes_check.h"
#include "envs/testing/env_checks.h"
#include "envs/testing/env_driver.h"
#include "gtest/gtest.h"

namespace marl {
namespace {

using SettingMap = std::map<std::string, SettingValue>;
using State = TaxiMeetingEnv::State;
constexpr int64_t kNoop = TaxiMeetingEnv::kNoop;
constexpr int64_t kUp = TaxiMeetingEnv::kUp;
constexpr int64_t kDown = TaxiMeetingEnv::kDown;
constexpr int64_t kRight = TaxiMeetingEnv::kRight;
constexpr int64_t kLeft = TaxiMeetingEnv::kLeft;
constexpr int kA = TaxiMeetingEnv::kA;
constexpr int kB = TaxiMeetingEnv::kB;

// Rooms on the default map (rooms = "all"): R (1, 1), G (6, 1), Y (1, 6),
// B (5, 6), in that order.
constexpr int kRoomR = 0, kRoomG = 1, kRoomY = 2;

std::unique_ptr<Env> Make(const SettingMap& settings = {}) {
  absl::StatusOr<std::unique_ptr<Env>> env =
      EnvRegistry::Global().Make("taxi_meeting", settings);
  EXPECT_TRUE(env.ok()) << env.status();
  return env.ok() ? *std::move(env) : nullptr;
}

absl::Status MakeError(const SettingMap& settings) {
  absl::StatusOr<std::unique_ptr<Env>> env =
      EnvRegistry::Global().Make("taxi_meeting", settings);
  return env.ok() ? absl::OkStatus() : env.status();
}

State At(int ax, int ay, int bx, int by, int room) {
  State s;
  s.agents[kA] = {ax, ay};
  s.agents[kB] = {bx, by};
  s.room = room;
  return s;
}

// One copy placed in `state`, stepped by hand.
class Meeting {
 public:
  explicit Meeting(const State& state, const SettingMap& settings = {})
      : env_(Make(settings)), driver_(env_.get()) {
    driver_.Reset();
    meeting()->SetStateForTesting(state);
  }
  TaxiMeetingEnv* meeting() { return static_cast<TaxiMeetingEnv*>(env_.get()); }
  // Steps both agents; checks that they got the same reward and returns it.
  float Step(int64_t a, int64_t b) {
    driver_.StepDiscrete({a, b});
    EXPECT_EQ(driver_.reward(kA), driver_.reward(kB));
    return driver_.reward(kA);
  }
  const TaxiMeetingEnv::Position& pos(int agent) {
    return meeting()->state().agents[agent];
  }
  EnvDriver& driver() { return driver_; }

 private:
  std::unique_ptr<Env> env_;
  EnvDriver driver_;
};

TEST(TaxiMeetingTest, DefaultSpec) {
  std::unique_ptr<Env> env = Make();
  const EnvSpec& spec = env->spec();
  ASSERT_EQ(spec.agent_ids, (std::vector<std::string>{"a", "b"}));
  for (int agent : {kA, kB}) {
    // 64 cells, then 4 rooms.
    EXPECT_EQ(spec.observation_spaces[agent], Space::Box({68}, {0.0f}, {1.0f}));
    EXPECT_EQ(spec.action_spaces[agent], Space::Discrete(5));
  }
  EXPECT_EQ(spec.episode_limit, 50);
  EXPECT_EQ(spec.info_keys, (std::vector<std::string>{"room", "met"}));
  EXPECT_EQ(static_cast<TaxiMeetingEnv*>(env.get())->rooms(),
            (std::vector<int>{0, 1, 2, 3}));

  std::unique_ptr<Env> wide = Make({{"observe_partner", true},
                                    {"rooms", std::string("GB")},
                                    {"informed", std::string("none")},
                                    {"max_steps", int64_t{7}}});
  for (int agent : {kA, kB}) {
    EXPECT_EQ(wide->spec().observation_spaces[agent],
              Space::Box({64 + 64 + 2}, {0.0f}, {1.0f}));
  }
  EXPECT_EQ(wide->spec().episode_limit, 7);
}

TEST(TaxiMeetingTest, RoomListsByName) {
  absl::StatusOr<TaxiMap> map = TaxiMap::Parse(TaxiMap::kDefault);
  ASSERT_TRUE(map.ok());
  absl::StatusOr<std::vector<int>> all =
      TaxiMeetingEnv::ParseRooms("all", *map);
  ASSERT_TRUE(all.ok());
  std::string names;
  for (int room : *all) names += map->depot_letters()[room];
  EXPECT_EQ(names, "RGYB");
  absl::StatusOr<std::vector<int>> two = TaxiMeetingEnv::ParseRooms("BY", *map);
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(*two, (std::vector<int>{3, 2}));  // the list's order
}

TEST(TaxiMeetingTest, BadSettingsGetClearErrors) {
  auto message = [](const SettingMap& s) {
    const absl::Status status = MakeError(s);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
    return std::string(status.message());
  };
  EXPECT_NE(message({{"rooms", std::string("RQ")}})
                .find("unknown depot 'Q'; the map's depots are RGYB"),
            std::string::npos);
  EXPECT_NE(message({{"rooms", std::string("r")}}).find("unknown depot 'r'"),
            std::string::npos);
  // A byte that is not UTF-8 is escaped in the message.
  EXPECT_NE(message({{"rooms", std::string("R\xff")}}).find("'\\xff'"),
            std::string::npos);
  EXPECT_NE(
      message({{"rooms", std::string("RGR")}}).find("depot R is listed twice"),
      std::string::npos);
  EXPECT_NE(message({{"rooms", std::string("")}}).find("rooms: empty"),
            std::string::npos);
  EXPECT_NE(message({{"informed", std::string("c")}})
                .find("informed: \"c\" is not one of"),
            std::string::npos);
  EXPECT_NE(message({{"informed", std::string("A")}}).find("informed"),
            std::string::npos);
  // Long values are cut in the message.
  const std::string long_value(100000, 'x');
  const std::string long_message = message({{"informed", long_value}});
  EXPECT_NE(long_message.find("xxx...\""), std::string::npos);
  EXPECT_LT(long_message.size(), 200u);
  // Maps TaxiMap::Parse refuses: a road cell (and depot B) unreachable from
  // depot A, and a map without a start cell.
  EXPECT_NE(message({{"map", std::string("A.#.B")}})
                .find("no road from depot A to cell (3, 0)"),
            std::string::npos);
  EXPECT_NE(message({{"map", std::string("AB")}}).find("map: needs"),
            std::string::npos);
  // A room the (valid) custom map does not have.
  EXPECT_NE(message({{"map", std::string("A..B")}, {"rooms", std::string("R")}})
                .find("unknown depot 'R'; the map's depots are AB"),
            std::string::npos);
  EXPECT_NE(message({{"meet_reward", 1e300}}).find("meet_reward"),
            std::string::npos);
  EXPECT_NE(message({{"step_reward", std::nan("")}}).find("step_reward"),
            std::string::npos);
  EXPECT_NE(message({{"max_steps", int64_t{0}}}).find("max_steps"),
            std::string::npos);
  // A map with one depot, that single room, is fine.
  EXPECT_TRUE(
      MakeError({{"map", std::string("A...")}, {"rooms", std::string("A")}})
          .ok());
  EXPECT_TRUE(MakeError({{"map", std::string("A...")}}).ok());
}

TEST(TaxiMeetingTest, MovesAndWalls) {
  Meeting m(At(2, 2, 4, 3, kRoomG));
  EXPECT_FLOAT_EQ(m.Step(kUp, kRight), -0.1f);
  EXPECT_EQ(m.pos(kA).x, 2);
  EXPECT_EQ(m.pos(kA).y, 1);
  EXPECT_EQ(m.pos(kB).x, 5);
  EXPECT_EQ(m.pos(kB).y, 3);
  // (3, 1) is a wall: a stays; b moves down.
  EXPECT_FLOAT_EQ(m.Step(kRight, kDown), -0.1f);
  EXPECT_EQ(m.pos(kA).x, 2);
  EXPECT_EQ(m.pos(kA).y, 1);
  EXPECT_EQ(m.pos(kB).x, 5);
  EXPECT_EQ(m.pos(kB).y, 4);
  // The border above a: blocked; b moves left.
  EXPECT_FLOAT_EQ(m.Step(kUp, kLeft), -0.1f);
  EXPECT_EQ(m.pos(kA).y, 1);
  EXPECT_EQ(m.pos(kB).x, 4);
  EXPECT_EQ(m.pos(kB).y, 4);
  EXPECT_FLOAT_EQ(m.Step(kLeft, kNoop), -0.1f);
  EXPECT_EQ(m.pos(kA).x, 1);  // on R, not the room
  EXPECT_EQ(m.pos(kB).x, 4);
  EXPECT_EQ(m.pos(kB).y, 4);
  EXPECT_FALSE(m.driver().terminated());
  EXPECT_EQ(m.driver().info()[1], 0.0f);
}

TEST(TaxiMeetingTest, MovesOffTheMapStayPut) {
  // No border walls: the map's edge blocks.
  const SettingMap open = {{"map", std::string("A..B/....")}};
  Meeting m(At(0, 1, 3, 1, 0), open);
  m.Step(kLeft, kRight);
  EXPECT_EQ(m.pos(kA).x, 0);
  EXPECT_EQ(m.pos(kB).x, 3);
  m.Step(kDown, kDown);
  EXPECT_EQ(m.pos(kA).y, 1);
  EXPECT_EQ(m.pos(kB).y, 1);
  m.Step(kUp, kUp);
  m.Step(kUp, kUp);
  EXPECT_EQ(m.pos(kA).y, 0);
  EXPECT_EQ(m.pos(kB).y, 0);
}

TEST(TaxiMeetingTest, AgentsDoNotBlockEachOther) {
  // They swap cells, then share one.
  Meeting m(At(2, 3, 3, 3, kRoomG));
  m.Step(kRight, kLeft);
  EXPECT_EQ(m.pos(kA).x, 3);
  EXPECT_EQ(m.pos(kB).x, 2);
  m.Step(kNoop, kRight);
  EXPECT_EQ(m.pos(kA).x, 3);
  EXPECT_EQ(m.pos(kB).x, 3);
  EXPECT_EQ(m.pos(kB).y, 3);
  EXPECT_FALSE(m.driver().terminated());
}

TEST(TaxiMeetingTest, MeetingAtTheRoomEndsTheEpisode) {
  const SettingMap rewards = {{"step_reward", -0.5}, {"meet_reward", 7.0}};
  // Both step onto G (6, 1) at once.
  Meeting m(At(5, 1, 6, 2, kRoomG), rewards);
  EXPECT_FLOAT_EQ(m.Step(kRight, kUp), 7.0f);
  EXPECT_TRUE(m.driver().terminated());
  EXPECT_EQ(m.driver().info()[0], static_cast<float>(kRoomG));
  EXPECT_EQ(m.driver().info()[1], 1.0f);
}

TEST(TaxiMeetingTest, OneAgentAtTheRoomWaitsForTheOther) {
  const SettingMap rewards = {{"step_reward", -0.5}, {"meet_reward", 7.0}};
  // a already stands on Y (1, 6); b arrives two steps later.
  Meeting m(At(1, 6, 1, 4, kRoomY), rewards);
  EXPECT_FLOAT_EQ(m.Step(kNoop, kDown), -0.5f);
  EXPECT_FALSE(m.driver().terminated());
  EXPECT_EQ(m.driver().info()[1], 0.0f);
  EXPECT_FLOAT_EQ(m.Step(kNoop, kDown), 7.0f);
  EXPECT_TRUE(m.driver().terminated());
  EXPECT_EQ(m.driver().info()[1], 1.0f);
  // Leaving the room as the other arrives is no meeting.
  Meeting apart(At(1, 6, 1, 5, kRoomY), rewards);
  EXPECT_FLOAT_EQ(apart.Step(kUp, kDown), -0.5f);
  EXPECT_FALSE(apart.driver().terminated());
}

TEST(TaxiMeetingTest, MeetingElsewhereEarnsNothing) {
  const SettingMap rewards = {{"step_reward", -0.5}, {"meet_reward", 7.0}};
  // The room is G; both step onto depot R (1, 1).
  Meeting depot(At(2, 1, 1, 2, kRoomG), rewards);
  EXPECT_FLOAT_EQ(depot.Step(kLeft, kUp), -0.5f);
  EXPECT_EQ(depot.pos(kA).x, 1);
  EXPECT_EQ(depot.pos(kB).y, 1);
  EXPECT_FALSE(depot.driver().terminated());
  EXPECT_EQ(depot.driver().info()[1], 0.0f);
  EXPECT_FLOAT_EQ(depot.Step(kNoop, kNoop), -0.5f);
  EXPECT_FALSE(depot.driver().terminated());
  // Together on a road cell.
  Meeting road(At(3, 3, 3, 3, kRoomR), rewards);
  EXPECT_FLOAT_EQ(road.Step(kNoop, kNoop), -0.5f);
  EXPECT_FALSE(road.driver().terminated());
}

TEST(TaxiMeetingTest, RoomsFollowTheListsOrder) {
  // rooms "BY": room 0 is B (5, 6), room 1 is Y.
  Meeting m(At(5, 5, 6, 6, 0), {{"rooms", std::string("BY")}});
  EXPECT_FLOAT_EQ(m.Step(kDown, kLeft), 2.0f);
  EXPECT_TRUE(m.driver().terminated());
  EXPECT_EQ(m.driver().info()[0], 0.0f);
  const std::vector<float>& obs = m.driver().observation(kA);
  ASSERT_EQ(obs.size(), 64u + 2);
  EXPECT_EQ(obs[64], 1.0f);
  EXPECT_EQ(obs[65], 0.0f);
  // At Y with room 1: a meeting too.
  Meeting y(At(1, 5, 1, 6, 1), {{"rooms", std::string("BY")}});
  EXPECT_FLOAT_EQ(y.Step(kDown, kNoop), 2.0f);
  EXPECT_EQ(y.driver().info()[0], 1.0f);
}

TEST(TaxiMeetingTest, ObservationLayout) {
  struct Case {
    std::string informed;
    bool a_knows, b_knows;
  };
  for (const Case& c : {Case{"a", true, false}, Case{"b", false, true},
                        Case{"both", true, true}, Case{"none", false, false}}) {
    for (bool observe_partner : {false, true}) {
      SCOPED_TRACE(c.informed + (observe_partner ? " with partner" : ""));
      Meeting m(At(4, 3, 3, 5, kRoomY), {{"informed", c.informed},
                                         {"observe_partner", observe_partner}});
      m.Step(kNoop, kNoop);
      const int cells = 64;
      const int rooms_at = observe_partner ? 2 * cells : cells;
      for (int agent : {kA, kB}) {
        const std::vector<float>& obs = m.driver().observation(agent);
        ASSERT_EQ(obs.size(), static_cast<size_t>(rooms_at + 4));
        const int self = agent == kA ? 3 * 8 + 4 : 5 * 8 + 3;
        const int partner = agent == kA ? 5 * 8 + 3 : 3 * 8 + 4;
        for (int i = 0; i < cells; ++i) {
          EXPECT_EQ(obs[i], i == self ? 1 : 0) << agent << " cell " << i;
          if (observe_partner) {
            EXPECT_EQ(obs[cells + i], i == partner ? 1 : 0)
                << agent << " partner cell " << i;
          }
        }
        const bool knows = agent == kA ? c.a_knows : c.b_knows;
        for (int k = 0; k < 4; ++k) {
          EXPECT_EQ(obs[rooms_at + k], knows && k == kRoomY ? 1 : 0)
              << agent << " room " << k;
        }
      }
      EXPECT_EQ(m.driver().info()[0], static_cast<float>(kRoomY));
    }
  }
}

TEST(TaxiMeetingTest, ResetObservationShowsTheDrawnState) {
  std::unique_ptr<Env> env =
      Make({{"observe_partner", true}, {"informed", std::string("both")}});
  auto* meeting = static_cast<TaxiMeetingEnv*>(env.get());
  EnvDriver driver(env.get());
  env->Seed(3);
  for (int i = 0; i < 20; ++i) {
    driver.Reset();
    const State& s = meeting->state();
    for (int agent : {kA, kB}) {
      const std::vector<float>& obs = driver.observation(agent);
      const auto& self = s.agents[agent];
      const auto& partner = s.agents[1 - agent];
      std::vector<float> expected(64 + 64 + 4, 0.0f);
      expected[self.y * 8 + self.x] = 1;
      expected[64 + partner.y * 8 + partner.x] = 1;
      expected[128 + s.room] = 1;
      EXPECT_EQ(obs, expected);
    }
    EXPECT_EQ(driver.info()[0], static_cast<float>(s.room));
    EXPECT_EQ(driver.info()[1], 0.0f);
  }
}

// Resets draw the room uniformly over the listed rooms and each agent's
// start uniformly over the 26 non-depot road cells, independently.
TEST(TaxiMeetingTest, ResetDistribution) {
  for (const std::string rooms : {"all", "YG"}) {
    SCOPED_TRACE(rooms);
    std::unique_ptr<Env> env = Make({{"rooms", rooms}});
    auto* meeting = static_cast<TaxiMeetingEnv*>(env.get());
    const TaxiMap& map = meeting->map();
    const size_t num_rooms = rooms == "all" ? 4 : 2;
    ASSERT_EQ(meeting->rooms().size(), num_rooms);
    EnvDriver driver(env.get());
    env->Seed(5);
    std::map<int, int> room_counts;
    std::map<int, int> cells[2];
    int together = 0;
    const int resets = 5200;
    for (int i = 0; i < resets; ++i) {
      driver.Reset();
      const State& s = meeting->state();
      ASSERT_GE(s.room, 0);
      ASSERT_LT(s.room, static_cast<int>(num_rooms));
      ++room_counts[s.room];
      for (int agent : {kA, kB}) {
        ++cells[agent][map.Cell(s.agents[agent].x, s.agents[agent].y)];
      }
      together +=
          s.agents[kA].x == s.agents[kB].x && s.agents[kA].y == s.agents[kB].y;
    }
    ASSERT_EQ(room_counts.size(), num_rooms);
    for (const auto& [room, count] : room_counts) {
      EXPECT_NEAR(count, resets / static_cast<double>(num_rooms),
                  5 * std::sqrt(resets / static_cast<double>(num_rooms)));
    }
    for (int agent : {kA, kB}) {
      ASSERT_EQ(cells[agent].size(), 26u);
      for (const auto& [cell, count] : cells[agent]) {
        for (int depot : map.depot_cells()) EXPECT_NE(cell, depot);
        EXPECT_NEAR(count, resets / 26.0, 5 * std::sqrt(resets / 26.0));
      }
    }
    // Independent draws: the same cell 1 time in 26.
    EXPECT_NEAR(together, resets / 26.0, 5 * std::sqrt(resets / 26.0));
  }
  // The rooms of "YG" are Y, then G.
  std::unique_ptr<Env> yg = Make({{"rooms", std::string("YG")}});
  auto* meeting = static_cast<TaxiMeetingEnv*>(yg.get());
  EXPECT_EQ(meeting->rooms(), (std::vector<int>{2, 1}));
}

// The draws come from the copy's own stream in the order room, a's cell,
// b's cell, through random_draws.h.
TEST(TaxiMeetingTest, DrawOrderIsRoomThenAThenB) {
  for (uint64_t seed : {0u, 1u, 42u}) {
    std::unique_ptr<Env> env = Make();
    auto* meeting = static_cast<TaxiMeetingEnv*>(env.get());
    const std::vector<int>& starts = meeting->map().start_cells();
    EnvDriver driver(env.get());
    env->Seed(seed);
    std::mt19937_64 rng(seed);
    for (int i = 0; i < 10; ++i) {
      driver.Reset();
      const int room = static_cast<int>(UniformIndex(rng, 4));
      const int a = starts[UniformIndex(rng, starts.size())];
      const int b = starts[UniformIndex(rng, starts.size())];
      const State& s = meeting->state();
      EXPECT_EQ(s.room, room);
      EXPECT_EQ(meeting->map().Cell(s.agents[kA].x, s.agents[kA].y), a);
      EXPECT_EQ(meeting->map().Cell(s.agents[kB].x, s.agents[kB].y), b);
    }
  }
}

TEST(TaxiMeetingTest, MessagesReachThePartner) {
  absl::StatusOr<std::unique_ptr<EnvBatch>> made =
      EnvBatch::Create("taxi_meeting", {{"message_size", int64_t{4}}},
                       /*num_copies=*/1, /*seed=*/9, /*auto_reset=*/true);
  ASSERT_TRUE(made.ok()) << made.status();
  LocalBatch batch(*std::move(made));
  const EnvSpec& spec = batch.spec();
  for (int agent : {kA, kB}) {
    ASSERT_TRUE(spec.action_spaces[agent].is_multi_discrete());
    EXPECT_EQ(spec.action_spaces[agent].nvec, (std::vector<int64_t>{5, 4}));
    EXPECT_EQ(spec.observation_spaces[agent].FlatSize(), 68 + 4);
  }
  ASSERT_TRUE(batch.ResetAll().ok());
  const int64_t b_hears_a = MessageOffset(spec, kB, kA);
  const int64_t a_hears_b = MessageOffset(spec, kA, kB);
  EXPECT_EQ(b_hears_a, 68);
  for (int k = 0; k < 4; ++k) {
    EXPECT_EQ(batch.observation(kB)[b_hears_a + k], 0.0f) << "nothing sent";
  }
  // Both stay put (starts are not depots: no meeting); a says 3, b says 1.
  ASSERT_TRUE(batch.StepAll({{kNoop, 3}, {kNoop, 1}}, {{}, {}}).ok());
  ASSERT_FALSE(batch.terminated(0));
  const std::vector<float>& b_obs = batch.observation(kB);
  ASSERT_EQ(b_obs.size(), 72u);
  for (int k = 0; k < 4; ++k) {
    EXPECT_EQ(b_obs[b_hears_a + k], k == 3 ? 1.0f : 0.0f) << k;
    EXPECT_EQ(batch.observation(kA)[a_hears_b + k], k == 1 ? 1.0f : 0.0f) << k;
  }
  // b's own part: one cell, no room (only a is informed).
  float own = 0;
  for (int i = 0; i < 68; ++i) own += b_obs[i];
  EXPECT_EQ(own, 1.0f);
  for (int i = 64; i < 68; ++i) EXPECT_EQ(b_obs[i], 0.0f);
}

TEST(TaxiMeetingTest, EstimateBoundsWhatACopyHolds) {
  for (const SettingMap& settings :
       {SettingMap{}, SettingMap{{"observe_partner", true}},
        SettingMap{{"rooms", std::string("G")}},
        SettingMap{{"map", std::string("A..B")}, {"rooms", std::string("BA")}},
        SettingMap{{"map", std::string("ABCDEFGHIJ........../KLMNOPQRST"
                                       "..........")},
                   {"observe_partner", true}}}) {
    absl::StatusOr<CopyBytesMeasurement> check =
        CheckCopyBytesEstimate("taxi_meeting", settings, /*max_factor=*/1.1);
    EXPECT_TRUE(check.ok()) << check.status();
  }
}

TEST(TaxiMeetingTest, PassesGenericChecks) {
  EnvCheckOptions options;
  options.stochastic = true;  // rooms and starts follow the seed
  options.num_episodes = 40;
  absl::Status s = RunEnvChecks("taxi_meeting", options);
  EXPECT_TRUE(s.ok()) << s;
  // A small map where random play meets often.
  options.settings = {{"map", std::string("A..B/....")},
                      {"observe_partner", true},
                      {"informed", std::string("both")}};
  s = RunEnvChecks("taxi_meeting", options);
  EXPECT_TRUE(s.ok()) << s;
  options.settings = {{"rooms", std::string("RB")},
                      {"message_size", int64_t{3}}};
  s = RunEnvChecks("taxi_meeting", options);
  EXPECT_TRUE(s.ok()) << s;
}

}  // namespace
}  // namespace marl
