#include "envs/taxi/taxi_meeting.h"

#include <array>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "envs/core/memory_estimate.h"
#include "envs/core/random_draws.h"
#include "envs/core/registry.h"

namespace marl {
namespace {

// Rewards stay far inside the protocol's finite range.
// How much of a refused string setting an error message repeats.
constexpr size_t kMaxEchoed = 32;

struct Checked {
  TaxiMap map;
  std::vector<int> rooms;
  std::array<bool, 2> informed;
  TaxiMeetingEnv::Rewards rewards;
};

// A setting's text as an error message may carry it (escaped: one byte of
// a multi-byte character is not UTF-8, and the message travels in a
// protobuf string; cut: a setting can come from the wire).
std::string Echo(absl::string_view text) {
  std::string echoed = absl::CHexEscape(text.substr(0, kMaxEchoed));
  if (text.size() > kMaxEchoed) echoed += "...";
  return echoed;
}

absl::StatusOr<std::array<bool, 2>> ParseInformed(const std::string& text) {
  if (text == "a") return std::array<bool, 2>{true, false};
  if (text == "b") return std::array<bool, 2>{false, true};
  if (text == "both") return std::array<bool, 2>{true, true};
  if (text == "none") return std::array<bool, 2>{false, false};
  return absl::InvalidArgumentError(
      absl::StrCat("informed: \"", Echo(text),
                   "\" is not one of \"a\", \"b\", \"both\", \"none\" (the "
                   "agents that observe the meeting room)"));
}

absl::StatusOr<Checked> CheckSettings(const Settings& settings) {
  absl::StatusOr<TaxiMap> map = TaxiMap::Parse(settings.GetString("map"));
  if (!map.ok()) return map.status();
  absl::StatusOr<std::vector<int>> rooms =
      TaxiMeetingEnv::ParseRooms(settings.GetString("rooms"), *map);
  if (!rooms.ok()) return rooms.status();
  absl::StatusOr<std::array<bool, 2>> informed =
      ParseInformed(settings.GetString("informed"));
  if (!informed.ok()) return informed.status();
  TaxiMeetingEnv::Rewards rewards;
  if (absl::Status s = ReadTaxiRewardsAndSteps(
          settings,
          {{"step_reward", &rewards.step}, {"meet_reward", &rewards.meet}});
      !s.ok()) {
    return s;
  }
  return Checked{*std::move(map), *std::move(rooms), *informed, rewards};
}

int64_t ObservationSize(const TaxiMap& map, size_t num_rooms,
                        bool observe_partner) {
  return int64_t{map.num_cells()} * (observe_partner ? 2 : 1) +
         static_cast<int64_t>(num_rooms);
}

}  // namespace

absl::StatusOr<std::vector<int>> TaxiMeetingEnv::ParseRooms(
    const std::string& text, const TaxiMap& map) {
  const std::string& depots = map.depot_letters();
  std::vector<int> rooms;
  if (text == "all") {
    rooms.reserve(depots.size());  // exact: the estimate counts size()
    for (size_t d = 0; d < depots.size(); ++d) {
      rooms.push_back(static_cast<int>(d));
    }
    return rooms;
  }
  if (text.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("rooms: empty; give \"all\" or depot letters such as \"",
                     depots, "\" (the map's depots)"));
  }
  // Every letter a distinct depot: the loop stops at the first problem,
  // within 27 letters, however long the text.
  for (const char letter : text) {
    const int depot = map.DepotIndex(letter);
    if (depot < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("rooms: unknown depot '", Echo({&letter, 1}),
                       "'; the map's depots are ", depots));
    }
    for (const int room : rooms) {
      if (room == depot) {
        return absl::InvalidArgumentError(absl::StrCat(
            "rooms: depot ", std::string(1, letter), " is listed twice"));
      }
    }
    rooms.push_back(depot);
  }
  rooms.shrink_to_fit();  // the memory estimate counts size() elements
  return rooms;
}

std::vector<SettingDecl> TaxiMeetingEnv::SettingDecls() {
  return {
      {"map",
       "rows of the grid separated by '/': '#' wall, '.' road, a capital "
       "letter a depot (a room); every road cell must reach every other",
       std::string(TaxiMap::kDefault)},
      {"rooms",
       "\"all\" (every depot of the map, in reading order) or the depot "
       "letters that may be the meeting room, e.g. \"RGB\" (no repeats); "
       "one is drawn per episode",
       std::string("all")},
      {"informed",
       "which agents observe the meeting room: \"a\", \"b\", \"both\" or "
       "\"none\"",
       std::string("a")},
      {"observe_partner",
       "append the one-hot of the partner's cell to each observation", false},
      {"step_reward", "reward of every step that does not end the episode",
       -0.1},
      {"meet_reward",
       "reward of the step after which both agents stand on the meeting "
       "room (ends the episode)",
       2.0},
      {"max_steps", "steps before the batch runner truncates the episode",
       int64_t{50}},
  };
}

absl::StatusOr<std::unique_ptr<Env>> TaxiMeetingEnv::Create(
    const Settings& settings) {
  absl::StatusOr<Checked> checked = CheckSettings(settings);
  if (!checked.ok()) return checked.status();
  return std::make_unique<TaxiMeetingEnv>(
      std::move(checked->map), std::move(checked->rooms), checked->informed,
      settings.GetBool("observe_partner"), checked->rewards,
      static_cast<int>(settings.GetInt("max_steps")));
}

absl::StatusOr<int64_t> TaxiMeetingEnv::EstimateCopyBytes(
    const Settings& settings) {
  absl::StatusOr<Checked> checked = CheckSettings(settings);
  if (!checked.ok()) return checked.status();
  const TaxiMap& map = checked->map;
  const int64_t obs = ObservationSize(map, checked->rooms.size(),
                                      settings.GetBool("observe_partner"));
  // Mirrors the constructor: the map (road bits, depots, start cells), the
  // rooms, and the spec (two one-letter ids, two Box observations, two
  // Discrete actions, two info keys).
  ByteEstimate estimate;
  map.AddBytes(&estimate);
  return estimate.AddObject(sizeof(TaxiMeetingEnv))
      .AddArray(static_cast<int64_t>(checked->rooms.size()), sizeof(int))
      .AddArray(2, sizeof(std::string))
      .AddStrings(2, 1)
      .AddArray(2, sizeof(Space))
      .AddSpaces(2, Space::Box({obs}, {0.0f}, {1.0f}))
      .AddArray(2, sizeof(Space))
      .AddSpaces(2, Space::Discrete(kNumActions))
      .AddArray(2, sizeof(std::string))
      .AddStrings(2, 4)
      .Total();
}

TaxiMeetingEnv::TaxiMeetingEnv(TaxiMap map, std::vector<int> rooms,
                               std::array<bool, 2> informed,
                               bool observe_partner, Rewards rewards,
                               int max_steps)
    : map_(std::move(map)),
      rooms_(std::move(rooms)),
      informed_(informed),
      observe_partner_(observe_partner),
      rewards_(rewards) {
  spec_.agent_ids = {"a", "b"};
  const Space observation = Space::Box(
      {ObservationSize(map_, rooms_.size(), observe_partner_)}, {0.0f}, {1.0f});
  spec_.observation_spaces = {observation, observation};
  spec_.action_spaces = {Space::Discrete(kNumActions),
                         Space::Discrete(kNumActions)};
  spec_.episode_limit = max_steps;
  spec_.info_keys = {"room", "met"};
}

void TaxiMeetingEnv::Reset(const Output& out) {
  // Draw order: the room, then a's cell, then b's.
  state_.room = static_cast<int>(UniformIndex(rng(), rooms_.size()));
  const std::vector<int>& starts = map_.start_cells();
  for (Position& agent : state_.agents) {
    const int start = starts[UniformIndex(rng(), starts.size())];
    agent.x = start % map_.width();
    agent.y = start / map_.width();
  }
  WriteObservation(out);
}

void TaxiMeetingEnv::Step(const Actions& actions, const Output& out) {
  // Agents never block each other, so moving one after the other is moving
  // both at once.
  for (int agent : {kA, kB}) {
    const int64_t action = actions.discrete(agent);
    Position& p = state_.agents[agent];
    map_.TryMove(action, &p.x, &p.y);
  }
  const int room_cell = map_.depot_cells()[rooms_[state_.room]];
  bool met = true;
  for (const Position& p : state_.agents) {
    met = met && map_.Cell(p.x, p.y) == room_cell;
  }
  const float reward = met ? rewards_.meet : rewards_.step;
  out.set_reward(kA, reward);
  out.set_reward(kB, reward);
  if (met) {
    out.info()[1] = 1.0f;
    out.set_terminated(true);
  }
  WriteObservation(out);
}

void TaxiMeetingEnv::WriteObservation(const Output& out) const {
  // The runner cleared the rows: only the ones are written.
  const int cells = map_.num_cells();
  for (int agent : {kA, kB}) {
    float* obs = out.observation(agent);
    const Position& self = state_.agents[agent];
    const Position& partner = state_.agents[1 - agent];
    obs[map_.Cell(self.x, self.y)] = 1.0f;
    int room_block = cells;
    if (observe_partner_) {
      obs[cells + map_.Cell(partner.x, partner.y)] = 1.0f;
      room_block += cells;
    }
    if (informed_[agent]) obs[room_block + state_.room] = 1.0f;
  }
  out.info()[0] = static_cast<float>(state_.room);
}

MARL_REGISTER_ENV({TaxiMeetingEnv::kName,
                   "two agents on a taxi map meet at a room that only one of "
                   "them observes (cooperative; thesis ch. 4 communication)",
                   TaxiMeetingEnv::SettingDecls(), TaxiMeetingEnv::Create,
                   TaxiMeetingEnv::EstimateCopyBytes});

}  // namespace marl
