#ifndef MARL_ENVS_TAXI_TAXI_H_
#define MARL_ENVS_TAXI_TAXI_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "envs/core/env.h"
#include "envs/core/settings.h"
#include "envs/taxi/taxi_map.h"

namespace marl {

// `taxi`: the multi-task Taxi of Multitask Soft Option Learning (Igl et al.
// 2019; EXPERIMENTS.md §6), the benchmark of the soft-option agents (thesis
// ch. 4). One agent ("taxi") drives on a grid map (`map`, TaxiMap: walls
// are blocked cells) between named depots.
//
// Task: an ordered pair (pickup depot, goal depot), drawn uniformly from
// `tasks` at every reset. `tasks` is "all" (every ordered pair of distinct
// depots, pickup-major in the depots' reading order: on the default map RG,
// RY, RB, GR, GY, GB, YR, YG, YB, BR, BG, BY, the 12 training tasks) or a
// '/'-separated list of two-letter pairs such as "RG/YB" (one pair = a
// single task). The passenger starts in the taxi with probability
// `passenger_in_taxi` (1/2), else waits at the pickup depot; `hard` = true
// (the hard variant) never starts it in the taxi (passenger_in_taxi = 0).
// The taxi starts uniformly on a road cell that is not a depot.
//
// Actions, Discrete(6): kNoop, kUp (y - 1), kDown (y + 1), kRight (x + 1),
// kLeft (x - 1), kToggle (pick up / drop off). A move into a wall or off
// the map stays put. kToggle picks the passenger up when the taxi, empty,
// is at the pickup depot where the passenger waits, and drops it off when
// the taxi carries it at the goal depot: that step earns `goal_reward` (2)
// and ends the episode (terminated, info success = 1). Any other kToggle,
// and any blocked move, is invalid and earns `invalid_reward` (-0.1); every
// other step earns `step_reward` (-0.1). `max_steps` (50) is the spec's
// episode limit (the batch runner truncates there).
//
// Observation, Box[width * height + 1 (+ task features)] in [0, 1]: the
// one-hot of the taxi's cell (row-major y * width + x), then 1 if the
// passenger is in the taxi. The task is not observed, as in the paper,
// unless `observe_task` (for agents that keep a part per task, such as a
// per-task master policy); then `task_encoding` "task" appends the one-hot
// of the task's index in the task list, "depots" the one-hot of its pickup
// depot and then of its goal depot (2 x depots floats, the same for any
// task list: for transfer to pairs not trained on). Info keys "task" (the
// index of the episode's task in the task list) and "success".
class TaxiEnv : public Env {
 public:
  static constexpr char kName[] = "taxi";
  enum Action : int64_t {
    kNoop = 0,
    kUp = 1,
    kDown = 2,
    kRight = 3,
    kLeft = 4,
    kToggle = 5,
    kNumActions = 6
  };
  // Indices into the depot list of the map.
  struct Task {
    int pickup = 0, goal = 0;
  };
  struct State {
    int x = 0, y = 0;
    int task = 0;  // index into tasks()
    bool in_taxi = false;
  };

  // The task list a `tasks` setting names on `map`; INVALID_ARGUMENT naming
  // an unknown depot, a pair of one depot, or a malformed entry.
  static absl::StatusOr<std::vector<Task>> ParseTasks(const std::string& text,
                                                      const TaxiMap& map);

  static std::vector<SettingDecl> SettingDecls();
  static absl::StatusOr<std::unique_ptr<Env>> Create(const Settings& settings);
  static absl::StatusOr<int64_t> EstimateCopyBytes(const Settings& settings);

  struct Rewards {
    float step = -0.1f, invalid = -0.1f, goal = 2.0f;
  };
  static constexpr double kDefaultPassengerInTaxi = 0.5;
  // What of the task the observation carries (observe_task, task_encoding).
  enum class TaskEncoding { kNone, kTask, kDepots };
  TaxiEnv(TaxiMap map, std::vector<Task> tasks, double passenger_in_taxi,
          TaskEncoding task_encoding, Rewards rewards, int max_steps);

  const EnvSpec& spec() const override { return spec_; }
  void Reset(const Output& out) override;
  void Step(const Actions& actions, const Output& out) override;

  const TaxiMap& map() const { return map_; }
  const std::vector<Task>& tasks() const { return tasks_; }
  // For tests: the current state, and setting it between steps (on a road
  // cell, task in range).
  const State& state() const { return state_; }
  void SetStateForTesting(const State& state) { state_ = state; }

 private:
  void WriteObservation(const Output& out) const;

  TaxiMap map_;
  std::vector<Task> tasks_;
  double passenger_in_taxi_;
  TaskEncoding task_encoding_;
  Rewards rewards_;
  EnvSpec spec_;
  State state_;
};

}  // namespace marl

#endif  // MARL_ENVS_TAXI_TAXI_H_
