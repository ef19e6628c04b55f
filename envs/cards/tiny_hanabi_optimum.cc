#include "envs/cards/tiny_hanabi_optimum.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "absl/strings/str_cat.h"

namespace marl {
namespace {

// Depth-first over player_0's policies, card 0's action first. sums[(c1 *
// num_actions + a0) * num_actions + a1] holds the payoffs summed over the
// cards assigned so far that play a0: a leaf's value is then, per (c1, a0),
// player_1's best a1. Each assignment saves the slice it changes and puts it
// back, so every leaf sums in the same order (cards ascending) and equal
// policies tie exactly.
class PolicySearch {
 public:
  explicit PolicySearch(const TinyHanabiPayoffs& payoffs)
      : payoffs_(payoffs),
        cards_(payoffs.num_cards()),
        actions_(payoffs.num_actions()),
        sums_(static_cast<size_t>(cards_) * actions_ * actions_, 0.0),
        saved_(cards_,
               std::vector<double>(static_cast<size_t>(cards_) * actions_)),
        uses_(actions_, 0),
        policy_(cards_, 0) {}

  // The best total over cards (the value times num_cards^2) and its policy.
  void Run() { Assign(0); }
  double best_total() const { return best_total_; }
  const std::vector<int>& best_policy() const { return best_policy_; }

 private:
  double& Sum(int card1, int action0, int action1) {
    return sums_[(static_cast<size_t>(card1) * actions_ + action0) * actions_ +
                 action1];
  }

  void Assign(int card0) {
    if (card0 == cards_) {
      Leaf();
      return;
    }
    std::vector<double>& saved = saved_[card0];
    for (int action0 = 0; action0 < actions_; ++action0) {
      for (int card1 = 0; card1 < cards_; ++card1) {
        for (int action1 = 0; action1 < actions_; ++action1) {
          double& sum = Sum(card1, action0, action1);
          saved[card1 * actions_ + action1] = sum;
          sum += payoffs_(card0, card1, action0, action1);
        }
      }
      policy_[card0] = action0;
      ++uses_[action0];
      Assign(card0 + 1);
      --uses_[action0];
      for (int card1 = 0; card1 < cards_; ++card1) {
        for (int action1 = 0; action1 < actions_; ++action1) {
          Sum(card1, action0, action1) = saved[card1 * actions_ + action1];
        }
      }
    }
  }

  void Leaf() {
    double total = 0;
    for (int card1 = 0; card1 < cards_; ++card1) {
      for (int action0 = 0; action0 < actions_; ++action0) {
        if (uses_[action0] == 0) continue;
        double best = Sum(card1, action0, 0);
        for (int action1 = 1; action1 < actions_; ++action1) {
          best = std::max(best, Sum(card1, action0, action1));
        }
        total += best;
      }
    }
    // Strictly better only: the first optimal policy in the order stays.
    if (best_policy_.empty() || total > best_total_) {
      best_total_ = total;
      best_policy_ = policy_;
    }
  }

  const TinyHanabiPayoffs& payoffs_;
  const int cards_;
  const int actions_;
  std::vector<double> sums_;
  // Per depth, the slice of sums_ its assignment changed.
  std::vector<std::vector<double>> saved_;
  std::vector<int> uses_;  // cards of the current policy playing each a0
  std::vector<int> policy_;
  double best_total_ = 0;
  std::vector<int> best_policy_;
};

// player_1's best response to policy0 at [card1 * num_actions + a0].
std::vector<int> BestResponse(const TinyHanabiPayoffs& payoffs,
                              const std::vector<int>& policy0) {
  const int cards = payoffs.num_cards();
  const int actions = payoffs.num_actions();
  std::vector<int> policy1(static_cast<size_t>(cards) * actions, 0);
  for (int card1 = 0; card1 < cards; ++card1) {
    for (int action0 = 0; action0 < actions; ++action0) {
      double best = 0;
      for (int action1 = 0; action1 < actions; ++action1) {
        double sum = 0;
        for (int card0 = 0; card0 < cards; ++card0) {
          if (policy0[card0] == action0) {
            sum += payoffs(card0, card1, action0, action1);
          }
        }
        if (action1 == 0 || sum > best) {
          best = sum;
          policy1[card1 * actions + action0] = action1;
        }
      }
    }
  }
  return policy1;
}

// player_0 plays one action whatever its card; player_1 best-responds to
// its own card.
double NoCommunicationValue(const TinyHanabiPayoffs& payoffs) {
  const int cards = payoffs.num_cards();
  const int actions = payoffs.num_actions();
  double best_total = 0;
  for (int action0 = 0; action0 < actions; ++action0) {
    double total = 0;
    for (int card1 = 0; card1 < cards; ++card1) {
      double best = 0;
      for (int action1 = 0; action1 < actions; ++action1) {
        double sum = 0;
        for (int card0 = 0; card0 < cards; ++card0) {
          sum += payoffs(card0, card1, action0, action1);
        }
        best = action1 == 0 ? sum : std::max(best, sum);
      }
      total += best;
    }
    best_total = action0 == 0 ? total : std::max(best_total, total);
  }
  return best_total / (static_cast<double>(cards) * cards);
}

double FullInformationValue(const TinyHanabiPayoffs& payoffs) {
  const int cards = payoffs.num_cards();
  const int actions = payoffs.num_actions();
  double total = 0;
  for (int card0 = 0; card0 < cards; ++card0) {
    for (int card1 = 0; card1 < cards; ++card1) {
      double best = payoffs(card0, card1, 0, 0);
      for (int action0 = 0; action0 < actions; ++action0) {
        for (int action1 = 0; action1 < actions; ++action1) {
          best = std::max(best, payoffs(card0, card1, action0, action1));
        }
      }
      total += best;
    }
  }
  return total / (static_cast<double>(cards) * cards);
}

}  // namespace

absl::StatusOr<TinyHanabiSolution> SolveTinyHanabi(
    const TinyHanabiPayoffs& payoffs) {
  const double cards = payoffs.num_cards();
  const double actions = payoffs.num_actions();
  // In doubles: num_actions^num_cards overflows any integer long before the
  // limits, and a double saturates at inf instead.
  const double policies = std::pow(actions, cards);
  const double work = policies * cards * std::min(cards, actions) * actions;
  if (policies > kMaxTinyHanabiPolicies || work > kMaxTinyHanabiWork) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "tiny_hanabi with num_cards=", payoffs.num_cards(),
        " and num_actions=", payoffs.num_actions(), " has ", policies,
        " player_0 policies (num_actions^num_cards) and ", work,
        " steps of work; the exact solver enumerates at most ",
        kMaxTinyHanabiPolicies, " policies and ", kMaxTinyHanabiWork,
        " steps"));
  }
  PolicySearch search(payoffs);
  search.Run();
  TinyHanabiSolution solution;
  solution.value = search.best_total() / (cards * cards);
  solution.policy0 = search.best_policy();
  solution.policy1 = BestResponse(payoffs, solution.policy0);
  solution.no_communication_value = NoCommunicationValue(payoffs);
  solution.full_information_value = FullInformationValue(payoffs);
  return solution;
}

absl::StatusOr<double> TinyHanabiPolicyValue(const TinyHanabiPayoffs& payoffs,
                                             absl::Span<const int> policy0,
                                             absl::Span<const int> policy1) {
  const int cards = payoffs.num_cards();
  const int actions = payoffs.num_actions();
  if (static_cast<int64_t>(policy0.size()) != cards ||
      static_cast<int64_t>(policy1.size()) != int64_t{cards} * actions) {
    return absl::InvalidArgumentError(
        absl::StrCat("policy0 needs num_cards = ", cards,
                     " actions and policy1 num_cards * num_actions = ",
                     int64_t{cards} * actions, "; got ", policy0.size(),
                     " and ", policy1.size()));
  }
  for (const absl::Span<const int> policy : {policy0, policy1}) {
    for (const int action : policy) {
      if (action < 0 || action >= actions) {
        return absl::InvalidArgumentError(
            absl::StrCat("policy action ", action,
                         " is out of range: actions are 0..", actions - 1));
      }
    }
  }
  double total = 0;
  for (int card0 = 0; card0 < cards; ++card0) {
    const int action0 = policy0[card0];
    for (int card1 = 0; card1 < cards; ++card1) {
      total +=
          payoffs(card0, card1, action0, policy1[card1 * actions + action0]);
    }
  }
  return total / (static_cast<double>(cards) * cards);
}

}  // namespace marl
