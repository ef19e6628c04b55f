#include "envs/cards/tiny_hanabi.h"

#include <cmath>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "envs/core/env_spec.h"
#include "envs/core/memory_estimate.h"
#include "envs/core/registry.h"

namespace marl {
namespace {

Space PublicSpace(int64_t num_actions) {
  return Space::Box({2 + num_actions}, {0.0f}, {1.0f});
}

Space StateSpace(int64_t num_cards, int64_t num_actions) {
  return Space::Box({2 * num_cards + 2 + num_actions}, {0.0f}, {1.0f});
}

// Every check the factory makes, without copying the table (the memory
// estimate runs it before anything is built).
absl::Status CheckSettings(const Settings& settings) {
  const int64_t num_cards = settings.GetInt("num_cards");
  const int64_t num_actions = settings.GetInt("num_actions");
  const DoubleArray& payoff = settings.GetArray("payoff");
  // The counts first: a table they cannot describe is RESOURCE_EXHAUSTED
  // whatever was given.
  absl::StatusOr<int64_t> size =
      TinyHanabiPayoffs::TableSize(num_cards, num_actions);
  if (!size.ok()) return size.status();
  const std::vector<int64_t> full_shape = {num_cards, num_cards, num_actions,
                                           num_actions};
  const bool flat =
      payoff.shape.size() == 1 &&
      payoff.shape[0] == static_cast<int64_t>(payoff.values.size());
  if (!flat && payoff.shape != full_shape) {
    return absl::InvalidArgumentError(absl::StrCat(
        "payoff must be flat, [v0,v1,...], or of shape [num_cards, "
        "num_cards, num_actions, num_actions] = [",
        absl::StrJoin(full_shape, ","), "]; got shape [",
        absl::StrJoin(payoff.shape, ","), "]"));
  }
  if (absl::Status s =
          TinyHanabiPayoffs::Check(num_cards, num_actions, payoff.values);
      !s.ok()) {
    return s;
  }
  for (size_t k = 0; k < payoff.values.size(); ++k) {
    // As the float reward a step gives: rounding may push 1e30 past it.
    const double reward = static_cast<float>(payoff.values[k]);
    if (std::abs(reward) > kMaxAbsReward) {
      return absl::InvalidArgumentError(
          absl::StrCat("payoff entry ", k, " is ", payoff.values[k],
                       ": every payoff, as a float reward, must be within +-",
                       kMaxAbsReward));
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::vector<SettingDecl> TinyHanabiEnv::SettingDecls() {
  const int64_t bad_size =
      static_cast<int64_t>(TinyHanabiPayoffs::BadValues().size());
  return {
      {"num_cards", "private cards per player, dealt uniformly (>= 1)",
       int64_t{2}},
      {"num_actions", "actions per player (>= 1)", int64_t{3}},
      {"payoff",
       "both players' payoff, num_cards^2 * num_actions^2 numbers indexed "
       "[card0][card1][a0][a1], flat ([10,0,0,4,8,4,...]) or 4-D; default "
       "the BAD game",
       DoubleArray{{bad_size}, TinyHanabiPayoffs::BadValues()}},
  };
}

absl::StatusOr<std::unique_ptr<Env>> TinyHanabiEnv::Create(
    const Settings& settings) {
  if (absl::Status s = CheckSettings(settings); !s.ok()) return s;
  absl::StatusOr<TinyHanabiPayoffs> payoffs = TinyHanabiPayoffs::Create(
      settings.GetInt("num_cards"), settings.GetInt("num_actions"),
      settings.GetArray("payoff").values);
  if (!payoffs.ok()) return payoffs.status();
  return std::make_unique<TinyHanabiEnv>(*std::move(payoffs));
}

absl::StatusOr<int64_t> TinyHanabiEnv::EstimateCopyBytes(
    const Settings& settings) {
  if (absl::Status s = CheckSettings(settings); !s.ok()) return s;
  const int64_t num_cards = settings.GetInt("num_cards");
  const int64_t num_actions = settings.GetInt("num_actions");
  // Mirrors the constructor: the table (in the game), then the spec: two
  // ids of 8 characters (held inline), four Discrete spaces, the public
  // observation's and the state's Box.
  return ByteEstimate()
      .AddObject(sizeof(TinyHanabiEnv))
      .AddArray(*TinyHanabiPayoffs::TableSize(num_cards, num_actions),
                sizeof(double))
      .AddArray(2, sizeof(std::string))
      .AddArray(2, sizeof(Space))
      .AddArray(2, sizeof(Space))
      .AddSpaces(1, PublicSpace(num_actions))
      .AddSpaces(1, StateSpace(num_cards, num_actions))
      .Total();
}

TinyHanabiEnv::TinyHanabiEnv(TinyHanabiPayoffs payoffs)
    : game_(std::move(payoffs)) {
  const int64_t num_cards = game_.payoffs().num_cards();
  const int64_t num_actions = game_.payoffs().num_actions();
  spec_.agent_ids = {"player_0", "player_1"};
  spec_.observation_spaces = {Space::Discrete(num_cards),
                              Space::Discrete(num_cards)};
  spec_.action_spaces = {Space::Discrete(num_actions),
                         Space::Discrete(num_actions)};
  spec_.has_public_observation = true;
  spec_.public_observation_space = PublicSpace(num_actions);
  spec_.has_state = true;
  spec_.state_space = StateSpace(num_cards, num_actions);
  spec_.sequential = true;
  // Two steps, ended by termination: no limit needed.
  spec_.episode_limit = 0;
}

void TinyHanabiEnv::Reset(const Output& out) {
  game_.DealFrom(rng());
  WriteObservations(out);
}

void TinyHanabiEnv::Step(const Actions& actions, const Output& out) {
  game_.Apply(actions.discrete(game_.current_player()));
  if (game_.current_player() == TinyHanabiGame::kOver) {
    const float reward = static_cast<float>(game_.payoff());
    out.set_reward(0, reward);
    out.set_reward(1, reward);
    out.set_terminated(true);
  }
  WriteObservations(out);
}

void TinyHanabiEnv::WriteObservations(const Output& out) const {
  // The runner cleared the rows: only the ones are written.
  const int num_cards = game_.payoffs().num_cards();
  out.observation(0)[0] = static_cast<float>(game_.card(0));
  out.observation(1)[0] = static_cast<float>(game_.card(1));
  const int player = game_.current_player();
  float* state = out.state();
  state[game_.card(0)] = 1.0f;
  state[num_cards + game_.card(1)] = 1.0f;
  // The public observation, written twice: on its own and inside the state.
  for (float* public_part : {out.public_observation(), state + 2 * num_cards}) {
    if (player != TinyHanabiGame::kOver) public_part[player] = 1.0f;
    if (game_.action(0) >= 0) public_part[2 + game_.action(0)] = 1.0f;
  }
  if (player != TinyHanabiGame::kOver) out.set_current_agent(player);
}

MARL_REGISTER_ENV({TinyHanabiEnv::kName,
                   "two-step cooperative card game of the BAD paper and its "
                   "family: player_1 sees player_0's action, not its card",
                   TinyHanabiEnv::SettingDecls(), TinyHanabiEnv::Create,
                   TinyHanabiEnv::EstimateCopyBytes});

}  // namespace marl
