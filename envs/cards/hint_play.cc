#include "envs/cards/hint_play.h"

#include <string>

#include "envs/core/memory_estimate.h"
#include "envs/core/registry.h"

namespace marl {
namespace {

absl::StatusOr<HintPlayConfig> ConfigFromSettings(const Settings& settings) {
  return HintPlayConfig::Create(
      settings.GetInt("num_ranks"), settings.GetInt("num_hints"),
      settings.GetInt("num_turns"), settings.GetDouble("misplay_reward"));
}

// Sizes within HintPlayConfig's bounds fit int64: at most 2 + 2^20 + 1 +
// 2^20 * (2^20 + 2) floats.
int64_t PublicSize(const HintPlayConfig& config) {
  return 2 + (int64_t{config.num_ranks} + 1) +
         int64_t{config.num_turns} * config.num_actions();
}

int64_t StateSize(const HintPlayConfig& config) {
  return 2 * int64_t{config.num_ranks} + PublicSize(config);
}

// A Box of `size` floats in [0, 1].
Space UnitBox(int64_t size) { return Space::Box({size}, {0.0f}, {1.0f}); }

// What UnitBox(size) holds, counted without building it (the bounds of a
// Box the settings make too large would not fit memory).
void AddUnitBox(int64_t size, ByteEstimate* estimate) {
  estimate->AddArray(1, sizeof(int64_t))
      .AddArray(size, sizeof(float))
      .AddArray(size, sizeof(float));
}

}  // namespace

std::vector<SettingDecl> HintPlayEnv::SettingDecls() {
  return {
      {"num_ranks",
       "card ranks; the pile is built 0, 1, ..., num_ranks - 1 (>= 1)",
       int64_t{3}},
      {"num_hints", "hint symbols, of no fixed meaning (>= 0)", int64_t{2}},
      {"num_turns", "turns in an episode, both players' together (>= 1)",
       int64_t{8}},
      {"misplay_reward",
       "reward to both of a card that does not fit the pile (a fitting card "
       "gives 1); in [-1e6, 1e6]",
       -1.0},
  };
}

absl::StatusOr<std::unique_ptr<Env>> HintPlayEnv::Create(
    const Settings& settings) {
  absl::StatusOr<HintPlayConfig> config = ConfigFromSettings(settings);
  if (!config.ok()) return config.status();
  return std::make_unique<HintPlayEnv>(*config);
}

absl::StatusOr<int64_t> HintPlayEnv::EstimateCopyBytes(
    const Settings& settings) {
  absl::StatusOr<HintPlayConfig> config = ConfigFromSettings(settings);
  if (!config.ok()) return config.status();
  // Mirrors the constructor: the game's reserved actions, then the spec:
  // two ids of 8 characters (held inline), four Discrete spaces, the public
  // observation's and the state's Box.
  ByteEstimate estimate;
  estimate.AddObject(sizeof(HintPlayEnv))
      .AddArray(config->num_turns, sizeof(int))
      .AddArray(2, sizeof(std::string))
      .AddArray(2, sizeof(Space))
      .AddArray(2, sizeof(Space));
  AddUnitBox(PublicSize(*config), &estimate);
  AddUnitBox(StateSize(*config), &estimate);
  return estimate.Total();
}

HintPlayEnv::HintPlayEnv(const HintPlayConfig& config) : game_(config) {
  spec_.agent_ids = {"player_0", "player_1"};
  spec_.observation_spaces = {Space::Discrete(config.num_ranks),
                              Space::Discrete(config.num_ranks)};
  spec_.action_spaces = {Space::Discrete(config.num_actions()),
                         Space::Discrete(config.num_actions())};
  spec_.has_public_observation = true;
  spec_.public_observation_space = UnitBox(PublicSize(config));
  spec_.has_state = true;
  spec_.state_space = UnitBox(StateSize(config));
  spec_.sequential = true;
  // The game ends itself after num_turns turns: no limit needed.
  spec_.episode_limit = 0;
}

void HintPlayEnv::Reset(const Output& out) {
  game_.Restart();
  game_.DealFrom(rng());
  WriteObservations(out);
}

void HintPlayEnv::Step(const Actions& actions, const Output& out) {
  const float reward = static_cast<float>(
      game_.Apply(static_cast<int>(actions.discrete(game_.current_player()))));
  game_.DealFrom(rng());
  out.set_reward(0, reward);
  out.set_reward(1, reward);
  if (game_.current_player() == HintPlayGame::kOver) out.set_terminated(true);
  WriteObservations(out);
}

void HintPlayEnv::WriteObservations(const Output& out) const {
  // The runner cleared the rows: only the ones are written.
  const HintPlayConfig& config = game_.config();
  out.observation(0)[0] = static_cast<float>(game_.card(1));
  out.observation(1)[0] = static_cast<float>(game_.card(0));
  const int player = game_.current_player();
  float* state = out.state();
  state[game_.card(0)] = 1.0f;
  state[config.num_ranks + game_.card(1)] = 1.0f;
  // The public observation, written twice: on its own and inside the state.
  for (float* public_part :
       {out.public_observation(), state + 2 * config.num_ranks}) {
    if (player != HintPlayGame::kOver) public_part[player] = 1.0f;
    public_part[2 + game_.pile()] = 1.0f;
    float* history = public_part + 2 + config.num_ranks + 1;
    for (const int action : game_.actions()) {
      history[action] = 1.0f;
      history += config.num_actions();
    }
  }
  if (player != HintPlayGame::kOver) out.set_current_agent(player);
}

MARL_REGISTER_ENV({HintPlayEnv::kName,
                   "cooperative card game with Hanabi's inverted information: "
                   "hint, play or discard a card only the partner sees",
                   HintPlayEnv::SettingDecls(), HintPlayEnv::Create,
                   HintPlayEnv::EstimateCopyBytes});

}  // namespace marl
