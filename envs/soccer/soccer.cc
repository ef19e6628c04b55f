#include "envs/soccer/soccer.h"

#include <algorithm>
#include <limits>
#include <string>

#include "absl/strings/str_cat.h"
#include "envs/core/memory_estimate.h"
#include "envs/core/random_draws.h"
#include "envs/core/registry.h"

namespace marl {
namespace {

// Board sides are bounded so that products of square counts cannot
// overflow before the state-count check below.
constexpr int64_t kMaxSide = 4096;
// Observations travel as floats, exact only up to 2^24.
constexpr int64_t kMaxStates = int64_t{1} << 24;

// player_1's egocentric board is rotated by 180 degrees: its compass
// directions are the opposite ones.
int64_t OppositeDirection(int64_t action) {
  switch (action) {
    case SoccerEnv::kNorth:
      return SoccerEnv::kSouth;
    case SoccerEnv::kSouth:
      return SoccerEnv::kNorth;
    case SoccerEnv::kEast:
      return SoccerEnv::kWest;
    case SoccerEnv::kWest:
      return SoccerEnv::kEast;
    default:
      return action;
  }
}

}  // namespace

int64_t SoccerEnv::StateCount(int rows, int cols) {
  const int64_t n = int64_t{rows} * cols;
  return 2 * n * (n - 1);
}

int64_t SoccerEnv::StateIndex(int rows, int cols, const State& state) {
  const int64_t n = int64_t{rows} * cols;
  const int64_t a = int64_t{state.a_row} * cols + state.a_col;
  const int64_t b = int64_t{state.b_row} * cols + state.b_col;
  return (state.ball_holder * n + a) * (n - 1) + (b < a ? b : b - 1);
}

SoccerEnv::State SoccerEnv::StateFromIndex(int rows, int cols, int64_t index) {
  const int64_t n = int64_t{rows} * cols;
  const int64_t b_skipping_a = index % (n - 1);
  const int64_t holder_and_a = index / (n - 1);
  const int64_t a = holder_and_a % n;
  const int64_t b = b_skipping_a < a ? b_skipping_a : b_skipping_a + 1;
  State state;
  state.ball_holder = static_cast<int>(holder_and_a / n);
  state.a_row = static_cast<int>(a / cols);
  state.a_col = static_cast<int>(a % cols);
  state.b_row = static_cast<int>(b / cols);
  state.b_col = static_cast<int>(b % cols);
  return state;
}

SoccerEnv::State SoccerEnv::Mirror(int rows, int cols, const State& state) {
  State mirrored;
  mirrored.a_row = rows - 1 - state.b_row;
  mirrored.a_col = cols - 1 - state.b_col;
  mirrored.b_row = rows - 1 - state.a_row;
  mirrored.b_col = cols - 1 - state.a_col;
  mirrored.ball_holder = 1 - state.ball_holder;
  return mirrored;
}

bool SoccerEnv::IsValid(int rows, int cols, const State& state) {
  const auto on_board = [rows, cols](int row, int col) {
    return row >= 0 && row < rows && col >= 0 && col < cols;
  };
  return on_board(state.a_row, state.a_col) &&
         on_board(state.b_row, state.b_col) &&
         (state.a_row != state.b_row || state.a_col != state.b_col) &&
         (state.ball_holder == 0 || state.ball_holder == 1);
}

SoccerEnv::State SoccerEnv::StartState(int rows, int cols, int ball_holder) {
  State state;
  state.a_row = (rows - 1) / 2;
  state.a_col = cols - 1 - (cols - 2) / 2;
  state.b_row = rows - 1 - state.a_row;
  state.b_col = cols - 1 - state.a_col;
  state.ball_holder = ball_holder;
  return state;
}

std::vector<SettingDecl> SoccerEnv::SettingDecls() {
  return {
      {"rows", "board rows (north-south), 1..4096", int64_t{4}},
      {"cols",
       "board columns (west-east), 2..4096; goals are outside the "
       "west (player_0 scores) and east (player_1 scores) columns",
       int64_t{5}},
      {"draw_probability",
       "chance in [0, 1] that a step without a goal ends the episode as a "
       "draw (terminated, rewards 0, info draw = 1); Littman trained with 0.1",
       double{0.0}},
      {"max_steps",
       "steps before the batch runner truncates the episode (0 = no limit)",
       int64_t{100}},
      {"own_goals",
       "carrying the ball into one's own goal scores for the opponent; "
       "false: that goal blocks like a wall",
       true},
      {"observation",
       "\"state_index\": Discrete full-state index (same for both players "
       "under absolute perspective); \"features\": Box[5] of normalised "
       "(A row, A col, B row, B col, A holds ball)",
       std::string("state_index")},
      {"perspective",
       "\"absolute\": both see the board as is; \"egocentric\": player_1 "
       "sees and acts on the board rotated 180 degrees with roles swapped",
       std::string("absolute")},
  };
}

absl::Status SoccerEnv::CheckSettings(const Settings& settings,
                                      Observation* observation,
                                      Perspective* perspective) {
  // Rewards are +-1 and 0: no setting can push them out of range.
  const int64_t rows = settings.GetInt("rows");
  const int64_t cols = settings.GetInt("cols");
  if (absl::Status s = CheckIntInRange("rows", rows, 1, kMaxSide); !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckIntInRange("cols", cols, 2, kMaxSide); !s.ok()) {
    return s;
  }
  const int64_t states =
      StateCount(static_cast<int>(rows), static_cast<int>(cols));
  if (states > kMaxStates) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a ", rows, " x ", cols, " board has ", states,
        " states; state indices must stay <= 2^24 (exact as floats)"));
  }
  if (absl::Status s = CheckDoubleInRange(
          "draw_probability", settings.GetDouble("draw_probability"), 0.0, 1.0);
      !s.ok()) {
    return s;
  }
  if (absl::Status s =
          CheckIntInRange("max_steps", settings.GetInt("max_steps"), 0,
                          std::numeric_limits<int32_t>::max());
      !s.ok()) {
    return s;
  }

  const std::string& observation_name = settings.GetString("observation");
  if (observation_name == "state_index") {
    *observation = Observation::kStateIndex;
  } else if (observation_name == "features") {
    *observation = Observation::kFeatures;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("observation must be \"state_index\" or \"features\", "
                     "got \"",
                     observation_name, "\""));
  }
  const std::string& perspective_name = settings.GetString("perspective");
  if (perspective_name == "absolute") {
    *perspective = Perspective::kAbsolute;
  } else if (perspective_name == "egocentric") {
    *perspective = Perspective::kEgocentric;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("perspective must be \"absolute\" or \"egocentric\", "
                     "got \"",
                     perspective_name, "\""));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Env>> SoccerEnv::Create(
    const Settings& settings) {
  Observation observation;
  Perspective perspective;
  if (absl::Status s = CheckSettings(settings, &observation, &perspective);
      !s.ok()) {
    return s;
  }
  return std::make_unique<SoccerEnv>(
      static_cast<int>(settings.GetInt("rows")),
      static_cast<int>(settings.GetInt("cols")),
      settings.GetDouble("draw_probability"),
      static_cast<int>(settings.GetInt("max_steps")),
      settings.GetBool("own_goals"), observation, perspective);
}

absl::StatusOr<int64_t> SoccerEnv::EstimateCopyBytes(const Settings& settings) {
  Observation observation;
  Perspective perspective;
  if (absl::Status s = CheckSettings(settings, &observation, &perspective);
      !s.ok()) {
    return s;
  }
  // Mirrors the constructor's spec: two ids, two observation spaces (a
  // Discrete index or a Box of features), two Discrete action spaces, one
  // info key. The board is not stored: the state is four coordinates.
  return ByteEstimate()
      .AddObject(sizeof(SoccerEnv))
      .AddArray(2, sizeof(std::string))
      .AddStrings(2, 8)
      .AddArray(2, sizeof(Space))
      .AddSpaces(2, ObservationSpace(observation, 2, 2))
      .AddArray(2, sizeof(Space))
      .AddArray(1, sizeof(std::string))
      .AddStrings(1, 4)
      .Total();
}

Space SoccerEnv::ObservationSpace(Observation observation, int rows, int cols) {
  return observation == Observation::kStateIndex
             ? Space::Discrete(StateCount(rows, cols))
             : Space::Box({kNumFeatures}, {0.0f}, {1.0f});
}

SoccerEnv::SoccerEnv(int rows, int cols, double draw_probability, int max_steps,
                     bool own_goals, Observation observation,
                     Perspective perspective)
    : rows_(rows),
      cols_(cols),
      draw_probability_(draw_probability),
      own_goals_(own_goals),
      observation_(observation),
      perspective_(perspective),
      // Rows within 1 of the centre line (rows - 1) / 2.
      goal_row_low_(rows >= 3 ? (rows - 2) / 2 : 0),
      goal_row_high_(std::min((rows + 1) / 2, rows - 1)),
      state_(StartState(rows, cols, 0)) {
  spec_.agent_ids = {"player_0", "player_1"};
  const Space observation_space = ObservationSpace(observation_, rows, cols);
  spec_.observation_spaces = {observation_space, observation_space};
  spec_.action_spaces = {Space::Discrete(kNumActions),
                         Space::Discrete(kNumActions)};
  spec_.episode_limit = max_steps;
  spec_.info_keys = {"draw"};
}

void SoccerEnv::Reset(const Output& out) {
  state_ = StartState(rows_, cols_, CoinFlip(rng()));
  WriteObservations(out);
}

void SoccerEnv::Step(const Actions& actions, const Output& out) {
  int64_t action[2] = {actions.discrete(0), actions.discrete(1)};
  if (perspective_ == Perspective::kEgocentric) {
    action[1] = OppositeDirection(action[1]);
  }
  const int first = CoinFlip(rng());
  last_first_mover_ = first;
  int scorer = Move(first, action[first]);
  if (scorer < 0) scorer = Move(1 - first, action[1 - first]);

  if (scorer >= 0) {
    out.set_reward(scorer, 1.0f);
    out.set_reward(1 - scorer, -1.0f);
    out.set_terminated(true);
  } else if (draw_probability_ > 0.0 &&
             UniformDouble(rng()) < draw_probability_) {
    out.info()[0] = 1.0f;
    out.set_terminated(true);
  }
  WriteObservations(out);
}

int SoccerEnv::Move(int player, int64_t action) {
  int row = player == 0 ? state_.a_row : state_.b_row;
  int col = player == 0 ? state_.a_col : state_.b_col;
  const int other_row = player == 0 ? state_.b_row : state_.a_row;
  const int other_col = player == 0 ? state_.b_col : state_.a_col;
  switch (action) {
    case kNorth:
      --row;
      break;
    case kSouth:
      ++row;
      break;
    case kEast:
      ++col;
      break;
    case kWest:
      --col;
      break;
    default:
      return -1;  // kStand
  }
  if (row == other_row && col == other_col) {
    state_.ball_holder = 1 - player;  // blocked: the stationary one gets it
    return -1;
  }
  if (row < 0 || row >= rows_) return -1;
  if (col < 0 || col >= cols_) {
    // Only a horizontal move leaves through a side; the row is on the board.
    if (state_.ball_holder != player || row < goal_row_low_ ||
        row > goal_row_high_) {
      return -1;
    }
    const int scorer = col < 0 ? 0 : 1;  // west goal is A's, east is B's
    if (scorer != player && !own_goals_) return -1;
    return scorer;
  }
  if (player == 0) {
    state_.a_row = row;
    state_.a_col = col;
  } else {
    state_.b_row = row;
    state_.b_col = col;
  }
  return -1;
}

void SoccerEnv::WriteObservations(const Output& out) const {
  const State& own0 = state_;
  const State mirrored = perspective_ == Perspective::kEgocentric
                             ? Mirror(rows_, cols_, state_)
                             : state_;
  if (observation_ == Observation::kStateIndex) {
    out.observation(0)[0] = static_cast<float>(StateIndex(rows_, cols_, own0));
    out.observation(1)[0] =
        static_cast<float>(StateIndex(rows_, cols_, mirrored));
  } else {
    WriteFeatures(own0, out.observation(0));
    WriteFeatures(mirrored, out.observation(1));
  }
}

void SoccerEnv::WriteFeatures(const State& state, float* out) const {
  // Division, not multiplication by a reciprocal, keeps the far edge at
  // exactly 1 (inside the Box).
  const auto row = [this](int r) {
    return rows_ > 1 ? static_cast<float>(r) / (rows_ - 1) : 0.0f;
  };
  const auto col = [this](int c) {
    return static_cast<float>(c) / (cols_ - 1);
  };
  out[0] = row(state.a_row);
  out[1] = col(state.a_col);
  out[2] = row(state.b_row);
  out[3] = col(state.b_col);
  out[4] = state.ball_holder == 0 ? 1.0f : 0.0f;
}

MARL_REGISTER_ENV({SoccerEnv::kName,
                   "Littman's two-player zero-sum grid soccer (minimax-Q); "
                   "moves in random order, ball to the stationary player",
                   SoccerEnv::SettingDecls(), SoccerEnv::Create,
                   SoccerEnv::EstimateCopyBytes});

}  // namespace marl
