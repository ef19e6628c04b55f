#ifndef MARL_ENVS_TAXI_TAXI_MEETING_H_
#define MARL_ENVS_TAXI_TAXI_MEETING_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "envs/core/env.h"
#include "envs/core/settings.h"
#include "envs/taxi/taxi_map.h"

namespace marl {

// `taxi_meeting`: a cooperative meeting game on a taxi map, for learned
// communication (thesis ch. 4): one agent may know where to meet, the other
// must be told. Two agents, "a" and "b", walk on a grid map (`map`,
// TaxiMap: walls are blocked cells) with named depots, the rooms.
//
// Each episode first draws the meeting room uniformly from `rooms`: "all"
// (every depot of the map, in the depots' reading order: R, G, Y, B on the
// default map) or a string of depot letters such as "RGB" (each a depot of
// the map, none twice; the list's order is the rooms' order). Then a's
// start cell, then b's, each uniformly from the road cells that are not
// depots (independent draws: they may coincide).
//
// Actions, Discrete(5) per agent: kNoop, kUp (y - 1), kDown (y + 1),
// kRight (x + 1), kLeft (x - 1). Both agents move at once; a move into a
// wall or off the map stays put; agents never block each other. Both
// agents get the same reward: `meet_reward` (2) on the step after which
// both stand on the meeting room's cell, which ends the episode
// (terminated, info met = 1); else `step_reward` (-0.1). Standing together
// on another depot earns nothing special. `max_steps` (50) is the spec's
// episode limit (the batch runner truncates there).
//
// Observation per agent, Box[width * height (+ width * height) + number of
// rooms] in [0, 1]: the one-hot of the agent's own cell (row-major
// y * width + x); then, if `observe_partner`, the one-hot of the partner's
// cell; then one float per room of the `rooms` list: the one-hot of the
// meeting room for an informed agent, all zeros for the other. `informed`
// is "a" (default), "b", "both" or "none"; both agents' observations have
// the same size. Info keys "room" (the index of the episode's room in the
// rooms list) and "met".
//
// With the registry's message_size = K the agents also send messages
// (envs/core/message_channel.h): the informed agent can tell the room.
class TaxiMeetingEnv : public Env {
 public:
  static constexpr char kName[] = "taxi_meeting";
  enum Action : int64_t {
    kNoop = 0,
    kUp = 1,
    kDown = 2,
    kRight = 3,
    kLeft = 4,
    kNumActions = 5
  };
  // Agent indices, in the spec's order.
  static constexpr int kA = 0, kB = 1;
  struct Position {
    int x = 0, y = 0;
  };
  struct State {
    std::array<Position, 2> agents;  // by agent index (kA, kB)
    int room = 0;                    // index into rooms()
  };

  // The rooms (indices into the map's depot list) a `rooms` setting names
  // on `map`; INVALID_ARGUMENT naming an unknown letter or a repeated one,
  // or for an empty list.
  static absl::StatusOr<std::vector<int>> ParseRooms(const std::string& text,
                                                     const TaxiMap& map);

  static std::vector<SettingDecl> SettingDecls();
  static absl::StatusOr<std::unique_ptr<Env>> Create(const Settings& settings);
  static absl::StatusOr<int64_t> EstimateCopyBytes(const Settings& settings);

  struct Rewards {
    float step = -0.1f, meet = 2.0f;
  };
  // informed[agent]: whether the agent observes the meeting room.
  TaxiMeetingEnv(TaxiMap map, std::vector<int> rooms,
                 std::array<bool, 2> informed, bool observe_partner,
                 Rewards rewards, int max_steps);

  const EnvSpec& spec() const override { return spec_; }
  void Reset(const Output& out) override;
  void Step(const Actions& actions, const Output& out) override;

  const TaxiMap& map() const { return map_; }
  const std::vector<int>& rooms() const { return rooms_; }
  // For tests: the current state, and setting it between steps (both
  // agents on road cells, room in range).
  const State& state() const { return state_; }
  void SetStateForTesting(const State& state) { state_ = state; }

 private:
  void WriteObservation(const Output& out) const;

  TaxiMap map_;
  std::vector<int> rooms_;
  std::array<bool, 2> informed_;
  bool observe_partner_;
  Rewards rewards_;
  EnvSpec spec_;
  State state_;
};

}  // namespace marl

#endif  // MARL_ENVS_TAXI_TAXI_MEETING_H_
