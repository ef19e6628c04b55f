#include "envs/taxi/taxi.h"

#include <cmath>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "envs/core/memory_estimate.h"
#include "envs/core/random_draws.h"
#include "envs/core/registry.h"

namespace marl {
namespace {

// Rewards stay far inside the protocol's finite range.
// More than every ordered pair of 26 depots (650); repeats weight a task.
constexpr size_t kMaxTasks = 1024;

struct Checked {
  TaxiMap map;
  std::vector<TaxiEnv::Task> tasks;
  TaxiEnv::Rewards rewards;
  double passenger_in_taxi;
  TaxiEnv::TaskEncoding task_encoding;
};

absl::StatusOr<Checked> CheckSettings(const Settings& settings) {
  absl::StatusOr<TaxiMap> map = TaxiMap::Parse(settings.GetString("map"));
  if (!map.ok()) return map.status();
  absl::StatusOr<std::vector<TaxiEnv::Task>> tasks =
      TaxiEnv::ParseTasks(settings.GetString("tasks"), *map);
  if (!tasks.ok()) return tasks.status();
  TaxiEnv::Rewards rewards;
  if (absl::Status s = ReadTaxiRewardsAndSteps(
          settings, {{"step_reward", &rewards.step},
                     {"invalid_reward", &rewards.invalid},
                     {"goal_reward", &rewards.goal}});
      !s.ok()) {
    return s;
  }
  double in_taxi = settings.GetDouble("passenger_in_taxi");
  if (absl::Status s = CheckDoubleInRange("passenger_in_taxi", in_taxi, 0, 1);
      !s.ok()) {
    return s;
  }
  if (settings.GetBool("hard")) {
    if (in_taxi != 0.0 && in_taxi != TaxiEnv::kDefaultPassengerInTaxi) {
      return absl::InvalidArgumentError(
          absl::StrCat("taxi: hard=true means passenger_in_taxi=0, not ",
                       in_taxi, "; give one of the two"));
    }
    in_taxi = 0.0;
  }
  const std::string& encoding_name = settings.GetString("task_encoding");
  if (encoding_name != "task" && encoding_name != "depots") {
    return absl::InvalidArgumentError(
        absl::StrCat("taxi: task_encoding must be \"task\" or \"depots\", "
                     "not \"",
                     encoding_name, "\""));
  }
  const TaxiEnv::TaskEncoding encoding =
      !settings.GetBool("observe_task") ? TaxiEnv::TaskEncoding::kNone
      : encoding_name == "depots"       ? TaxiEnv::TaskEncoding::kDepots
                                        : TaxiEnv::TaskEncoding::kTask;
  return Checked{*std::move(map), *std::move(tasks), rewards, in_taxi,
                 encoding};
}

int64_t ObservationSize(const TaxiMap& map, size_t num_tasks,
                        TaxiEnv::TaskEncoding encoding) {
  const int64_t task = encoding == TaxiEnv::TaskEncoding::kTask
                           ? static_cast<int64_t>(num_tasks)
                       : encoding == TaxiEnv::TaskEncoding::kDepots
                           ? 2 * static_cast<int64_t>(map.depot_cells().size())
                           : 0;
  return int64_t{map.num_cells()} + 1 + task;
}

}  // namespace

absl::StatusOr<std::vector<TaxiEnv::Task>> TaxiEnv::ParseTasks(
    const std::string& text, const TaxiMap& map) {
  std::vector<Task> tasks;
  const std::string& depots = map.depot_letters();
  if (text == "all") {
    for (size_t p = 0; p < depots.size(); ++p) {
      for (size_t g = 0; g < depots.size(); ++g) {
        if (p != g) tasks.push_back({static_cast<int>(p), static_cast<int>(g)});
      }
    }
    if (tasks.empty()) {
      return absl::InvalidArgumentError(
          "tasks=all needs a map with at least two depots");
    }
    tasks.shrink_to_fit();
    return tasks;
  }
  // Bounded before splitting: a setting can come from the wire.
  if (text.size() > 3 * kMaxTasks) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tasks: at most ", kMaxTasks, " pairs (", text.size(), " characters)"));
  }
  for (absl::string_view entry : absl::StrSplit(text, '/')) {
    if (entry.size() != 2) {
      return absl::InvalidArgumentError(absl::StrCat(
          "tasks: \"", entry,
          "\" is not a pair of depot letters such as RG (pick up at R, drop "
          "off at G); tasks are \"all\" or pairs separated by '/'"));
    }
    const int pickup = map.DepotIndex(entry[0]);
    const int goal = map.DepotIndex(entry[1]);
    if (pickup < 0 || goal < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("tasks: unknown depot in \"", entry,
                       "\"; the map's depots are ", depots));
    }
    if (pickup == goal) {
      return absl::InvalidArgumentError(absl::StrCat(
          "tasks: \"", entry, "\" picks up and drops off at one depot"));
    }
    tasks.push_back({pickup, goal});
  }
  tasks.shrink_to_fit();  // the memory estimate counts size() elements
  return tasks;
}

std::vector<SettingDecl> TaxiEnv::SettingDecls() {
  return {
      {"map",
       "rows of the grid separated by '/': '#' wall, '.' road, a capital "
       "letter a depot; every road cell must reach every other",
       std::string(TaxiMap::kDefault)},
      {"tasks",
       "\"all\" (every ordered pair of distinct depots: the 12 training tasks "
       "on the default map) or pickup-goal depot pairs separated by '/', "
       "e.g. \"RG/YB\"; one is drawn per episode",
       std::string("all")},
      {"hard",
       "the hard variant: the passenger never starts in the taxi (the same "
       "as passenger_in_taxi=0)",
       false},
      {"passenger_in_taxi",
       "probability that an episode starts with the passenger already in "
       "the taxi (else it waits at the pickup depot); 1 trains the "
       "drop-off legs alone",
       TaxiEnv::kDefaultPassengerInTaxi},
      {"observe_task",
       "append the episode's task to the observation (as task_encoding "
       "says)",
       false},
      {"task_encoding",
       "with observe_task: \"task\" (the one-hot of the task's place in "
       "the task list) or \"depots\" (the pickup depot's one-hot, then the "
       "goal depot's: the same features for any task list, so an agent "
       "trained on some pairs can be given others)",
       std::string("task")},
      {"step_reward", "reward of every other step", -0.1},
      {"invalid_reward",
       "reward of a move into a wall or a pickup/drop-off that is not "
       "possible",
       -0.1},
      {"goal_reward", "reward of the drop-off at the goal (ends the episode)",
       2.0},
      {"max_steps", "steps before the batch runner truncates the episode",
       int64_t{50}},
  };
}

absl::StatusOr<std::unique_ptr<Env>> TaxiEnv::Create(const Settings& settings) {
  absl::StatusOr<Checked> checked = CheckSettings(settings);
  if (!checked.ok()) return checked.status();
  return std::make_unique<TaxiEnv>(
      std::move(checked->map), std::move(checked->tasks),
      checked->passenger_in_taxi, checked->task_encoding, checked->rewards,
      static_cast<int>(settings.GetInt("max_steps")));
}

absl::StatusOr<int64_t> TaxiEnv::EstimateCopyBytes(const Settings& settings) {
  absl::StatusOr<Checked> checked = CheckSettings(settings);
  if (!checked.ok()) return checked.status();
  const TaxiMap& map = checked->map;
  const int64_t obs =
      ObservationSize(map, checked->tasks.size(), checked->task_encoding);
  // Mirrors the constructor: the map (road bits, depots, start cells), the
  // tasks, and the spec (one id, a Box observation, a Discrete action, two
  // info keys).
  ByteEstimate estimate;
  map.AddBytes(&estimate);
  return estimate.AddObject(sizeof(TaxiEnv))
      .AddArray(static_cast<int64_t>(checked->tasks.size()), sizeof(Task))
      .AddArray(1, sizeof(std::string))
      .AddStrings(1, 4)
      .AddArray(1, sizeof(Space))
      .AddSpaces(1, Space::Box({obs}, {0.0f}, {1.0f}))
      .AddArray(1, sizeof(Space))
      .AddArray(2, sizeof(std::string))
      .AddStrings(2, 7)
      .Total();
}

TaxiEnv::TaxiEnv(TaxiMap map, std::vector<Task> tasks, double passenger_in_taxi,
                 TaskEncoding task_encoding, Rewards rewards, int max_steps)
    : map_(std::move(map)),
      tasks_(std::move(tasks)),
      passenger_in_taxi_(passenger_in_taxi),
      task_encoding_(task_encoding),
      rewards_(rewards) {
  spec_.agent_ids = {"taxi"};
  spec_.observation_spaces = {Space::Box(
      {ObservationSize(map_, tasks_.size(), task_encoding_)}, {0.0f}, {1.0f})};
  spec_.action_spaces = {Space::Discrete(kNumActions)};
  spec_.episode_limit = max_steps;
  spec_.info_keys = {"task", "success"};
}

void TaxiEnv::Reset(const Output& out) {
  const int start =
      map_.start_cells()[UniformIndex(rng(), map_.start_cells().size())];
  state_.x = start % map_.width();
  state_.y = start / map_.width();
  state_.task = static_cast<int>(UniformIndex(rng(), tasks_.size()));
  // No draw when it can never start in the taxi (the hard variant's
  // stream); at 1/2 the draw is the coin flip of earlier versions.
  state_.in_taxi =
      passenger_in_taxi_ > 0.0 && Bernoulli(rng(), passenger_in_taxi_);
  WriteObservation(out);
}

void TaxiEnv::Step(const Actions& actions, const Output& out) {
  const int64_t action = actions.discrete(0);
  const Task& task = tasks_[state_.task];
  const int here = map_.Cell(state_.x, state_.y);
  float reward = rewards_.step;
  if (action == kToggle) {
    if (!state_.in_taxi && here == map_.depot_cells()[task.pickup]) {
      state_.in_taxi = true;
    } else if (state_.in_taxi && here == map_.depot_cells()[task.goal]) {
      state_.in_taxi = false;
      reward = rewards_.goal;
      out.info()[1] = 1.0f;
      out.set_terminated(true);
    } else {
      reward = rewards_.invalid;
    }
  } else if (action != kNoop) {
    if (!map_.TryMove(action, &state_.x, &state_.y)) {
      reward = rewards_.invalid;
    }
  }
  out.set_reward(0, reward);
  WriteObservation(out);
}

void TaxiEnv::WriteObservation(const Output& out) const {
  // The runner cleared the row: only the ones are written.
  float* obs = out.observation(0);
  obs[map_.Cell(state_.x, state_.y)] = 1.0f;
  obs[map_.num_cells()] = state_.in_taxi ? 1.0f : 0.0f;
  float* task = obs + map_.num_cells() + 1;
  if (task_encoding_ == TaskEncoding::kTask) {
    task[state_.task] = 1.0f;
  } else if (task_encoding_ == TaskEncoding::kDepots) {
    const Task& t = tasks_[state_.task];
    task[t.pickup] = 1.0f;
    task[map_.depot_cells().size() + t.goal] = 1.0f;
  }
  out.info()[0] = static_cast<float>(state_.task);
}

MARL_REGISTER_ENV({TaxiEnv::kName,
                   "multi-task Taxi of Multitask Soft Option Learning: pick "
                   "up at one depot, drop off at another, on a settable map",
                   TaxiEnv::SettingDecls(), TaxiEnv::Create,
                   TaxiEnv::EstimateCopyBytes});

}  // namespace marl
