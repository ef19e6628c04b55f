#include "envs/cards/hint_play_optimum.h"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace marl {
namespace {

int Count(uint32_t ranks) { return __builtin_popcount(ranks); }

// The game with nothing hidden: values over (turn, pile, card0, card1),
// backwards from the end (worth 0 at the last turn or a full pile). A hint
// changes nothing, so the actor plays, discards or waits; a played or
// discarded card is replaced by a uniform one.
double FullInformationValue(const HintPlayConfig& config) {
  const int ranks = config.num_ranks;
  const auto index = [ranks](int pile, int card0, int card1) {
    return (static_cast<size_t>(pile) * ranks + card0) * ranks + card1;
  };
  const size_t entries = index(ranks + 1, 0, 0);
  std::vector<double> next(entries, 0.0), now(entries, 0.0);
  for (int turn = config.num_turns - 1; turn >= 0; --turn) {
    const int actor = turn % 2;
    for (int pile = 0; pile < ranks; ++pile) {
      for (int card0 = 0; card0 < ranks; ++card0) {
        for (int card1 = 0; card1 < ranks; ++card1) {
          // The next turn's value once the actor's card is replaced and the
          // pile is `to`: the mean over the new card.
          const auto replaced = [&](int to) {
            double sum = 0;
            for (int card = 0; card < ranks; ++card) {
              sum += next[actor == 0 ? index(to, card, card1)
                                     : index(to, card0, card)];
            }
            return sum / ranks;
          };
          const int own = actor == 0 ? card0 : card1;
          const double play = own == pile
                                  ? 1.0 + replaced(pile + 1)
                                  : config.misplay_reward + replaced(pile);
          double best = std::max(play, replaced(pile));  // play or discard
          if (config.num_hints > 0) {
            best = std::max(best, next[index(pile, card0, card1)]);
          }
          now[index(pile, card0, card1)] = best;
        }
      }
    }
    std::swap(now, next);  // the full pile's entries stay 0 in both
  }
  double sum = 0;
  for (int card0 = 0; card0 < ranks; ++card0) {
    for (int card1 = 0; card1 < ranks; ++card1)
      sum += next[index(0, card0, card1)];
  }
  return sum / (static_cast<double>(ranks) * ranks);
}

}  // namespace

absl::StatusOr<HintPlaySolver> HintPlaySolver::Create(
    const HintPlayConfig& config) {
  // In doubles: the counts overflow any integer long before the limits, and
  // a double saturates at inf instead.
  const double ranks = config.num_ranks;
  const double subsets = std::ldexp(1.0, config.num_ranks);
  const double beliefs =
      config.num_turns * (ranks + 1) * (subsets - 1) * (subsets - 1);
  const double work =
      beliefs * std::pow(static_cast<double>(config.num_actions()), ranks);
  const double entries =
      (config.num_turns + 1.0) * (ranks + 1) * subsets * subsets;
  if (work > kMaxWork || entries > kMaxBeliefs) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "hint_play with num_ranks=", config.num_ranks,
        ", num_hints=", config.num_hints, ", num_turns=", config.num_turns,
        " needs ", work, " prescription evaluations and ", entries,
        " stored beliefs; the exact solver does at most ", kMaxWork, " and ",
        kMaxBeliefs));
  }
  HintPlaySolver solver(config);
  // Backwards from the last turn; beliefs at the end (turn num_turns or a
  // full pile) are worth 0, as the tables start.
  for (int turn = config.num_turns - 1; turn >= 0; --turn) {
    for (int pile = 0; pile < config.num_ranks; ++pile) {
      for (uint32_t possible0 = 1; possible0 <= solver.all_ranks_;
           ++possible0) {
        for (uint32_t possible1 = 1; possible1 <= solver.all_ranks_;
             ++possible1) {
          const Belief belief{turn, pile, {possible0, possible1}};
          const int64_t index = solver.Index(turn, pile, possible0, possible1);
          solver.values_[index] = solver.Best(solver.values_, belief, nullptr);
          solver.blind_values_[index] =
              solver.BestBlind(solver.blind_values_, belief);
        }
      }
    }
  }
  solver.full_information_value_ = FullInformationValue(config);
  return solver;
}

HintPlaySolver::HintPlaySolver(const HintPlayConfig& config)
    : config_(config), all_ranks_((uint32_t{1} << config.num_ranks) - 1) {
  const size_t entries =
      static_cast<size_t>(config.num_turns + 1) * (config.num_ranks + 1)
      << (2 * config.num_ranks);
  values_.assign(entries, 0.0);
  blind_values_.assign(entries, 0.0);
}

HintPlaySolver::Belief HintPlaySolver::Start() const {
  return Belief{0, 0, {all_ranks_, all_ranks_}};
}

double HintPlaySolver::no_communication_value() const {
  const Belief start = Start();
  return blind_values_[Index(start.turn, start.pile, start.possible[0],
                             start.possible[1])];
}

double HintPlaySolver::Value(const Belief& belief) const {
  return values_[Index(belief.turn, belief.pile, belief.possible[0],
                       belief.possible[1])];
}

std::vector<int> HintPlaySolver::Prescription(const Belief& belief) const {
  std::vector<int> prescription;
  Best(values_, belief, &prescription);
  return prescription;
}

int64_t HintPlaySolver::Index(int turn, int pile, uint32_t possible0,
                              uint32_t possible1) const {
  const int ranks = config_.num_ranks;
  return ((int64_t{turn} * (ranks + 1) + pile) << (2 * ranks)) |
         (int64_t{possible0} << ranks) | possible1;
}

double HintPlaySolver::ActionValue(const std::vector<double>& values,
                                   const Belief& belief, int action,
                                   uint32_t revealed) const {
  const int actor = belief.turn % 2;
  std::array<uint32_t, 2> next = belief.possible;
  next[1 - actor] = revealed;
  // A played or discarded card is replaced by a uniform one.
  if (action == HintPlayGame::kPlay || action == HintPlayGame::kDiscard) {
    next[actor] = all_ranks_;
  }
  const int turn = belief.turn + 1;
  const double stay = values[Index(turn, belief.pile, next[0], next[1])];
  if (action != HintPlayGame::kPlay) return stay;
  // The card fits with the chance that its rank is the pile's height.
  const int possible = Count(belief.possible[actor]);
  const int fits = (belief.possible[actor] >> belief.pile) & 1;
  const double grown = values[Index(turn, belief.pile + 1, next[0], next[1])];
  return (fits * (1.0 + grown) +
          (possible - fits) * (config_.misplay_reward + stay)) /
         possible;
}

double HintPlaySolver::Best(const std::vector<double>& values,
                            const Belief& belief,
                            std::vector<int>* prescription) const {
  const int actions = config_.num_actions();
  const uint32_t partner = belief.possible[1 - belief.turn % 2];
  std::vector<int> ranks;
  for (int rank = 0; rank < config_.num_ranks; ++rank) {
    if ((partner >> rank) & 1) ranks.push_back(rank);
  }
  // Each action's value for every non-empty set of ranks it may reveal, by
  // the set's bits.
  std::vector<double> action_values(static_cast<size_t>(actions)
                                    << config_.num_ranks);
  for (uint32_t subset = partner; subset != 0;
       subset = (subset - 1) & partner) {
    for (int action = 0; action < actions; ++action) {
      action_values[(static_cast<size_t>(action) << config_.num_ranks) |
                    subset] = ActionValue(values, belief, action, subset);
    }
  }
  // Every prescription, as a base-`actions` counter over the ranks.
  const double share = 1.0 / ranks.size();
  std::vector<int> choice(ranks.size(), 0);
  std::vector<uint32_t> revealed(actions);
  std::vector<int> best_choice;
  double best = 0;
  while (true) {
    std::fill(revealed.begin(), revealed.end(), 0);
    for (size_t r = 0; r < ranks.size(); ++r) {
      revealed[choice[r]] |= uint32_t{1} << ranks[r];
    }
    double value = 0;
    for (int action = 0; action < actions; ++action) {
      if (revealed[action] == 0) continue;
      value +=
          Count(revealed[action]) * share *
          action_values[(static_cast<size_t>(action) << config_.num_ranks) |
                        revealed[action]];
    }
    if (best_choice.empty() || value > best) {
      best = value;
      best_choice = choice;
    }
    size_t digit = 0;
    while (digit < choice.size() && ++choice[digit] == actions) {
      choice[digit++] = 0;
    }
    if (digit == choice.size()) break;
  }
  if (prescription != nullptr) {
    prescription->assign(config_.num_ranks, -1);
    for (size_t r = 0; r < ranks.size(); ++r) {
      (*prescription)[ranks[r]] = best_choice[r];
    }
  }
  return best;
}

double HintPlaySolver::BestBlind(const std::vector<double>& values,
                                 const Belief& belief) const {
  // One action whatever the partner's card: it reveals nothing.
  const uint32_t partner = belief.possible[1 - belief.turn % 2];
  double best = ActionValue(values, belief, 0, partner);
  for (int action = 1; action < config_.num_actions(); ++action) {
    best = std::max(best, ActionValue(values, belief, action, partner));
  }
  return best;
}

}  // namespace marl
