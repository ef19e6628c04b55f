#include "agents/balancing_q/balancing_q_math.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace marl {
namespace {

// The 2x2 table of the hand computations: Q(a, b) = [[1, 3], [2, 0]].
const double kQ[4] = {1, 3, 2, 0};

TEST(BalancingQMathTest, Eq328AgainstHandComputedValues) {
  // beta^i = 2, beta^-i = -1 (a foe), uniform priors:
  //   Q^i(0) = -2 log((e^-1 + e^-3) / 2) = 3.1324383...
  //   Q^i(1) = -2 log((e^-2 + e^0) / 2)  = 1.1324383...
  // (e^-1 + e^-3 = e^-1 (e^-2 + 1), so Q^i(0) - Q^i(1) = 2 exactly),
  //   pi(0) = e^2 / (1 + e^2) = 0.8807970...,
  //   V^i = log((e^Q^i(0) + e^Q^i(1)) / 2) = 2.5662191..., V = V^i / 2.
  double agent_q[2], pi[2];
  BalancingAgentQ(kQ, 2, 2, nullptr, 2.0, -1.0, agent_q);
  EXPECT_NEAR(agent_q[0], 3.1324383390, 1e-9);
  EXPECT_NEAR(agent_q[1], 1.1324383390, 1e-9);
  BalancingPolicy(agent_q, nullptr, 2, pi);
  EXPECT_NEAR(pi[0], 0.8807970780, 1e-9);
  EXPECT_NEAR(pi[1], 0.1192029220, 1e-9);
  EXPECT_NEAR(BalancingAgentValue(agent_q, nullptr, 2), 2.5662191695, 1e-9);
  EXPECT_NEAR(BalancingValue(kQ, 2, 2, nullptr, nullptr, 2.0, -1.0),
              2.5662191695 / 2, 1e-9);

  // A non-uniform opponent prior (0.25, 0.75) enters the sum as weights:
  //   Q^i(0) = -2 log(0.25 e^-1 + 0.75 e^-3) = 4.0910828...
  const double prior[2] = {0.25, 0.75};
  BalancingAgentQ(kQ, 2, 2, prior, 2.0, -1.0, agent_q);
  EXPECT_NEAR(agent_q[0],
              -2 * std::log(0.25 * std::exp(-1.0) + 0.75 * std::exp(-3.0)),
              1e-12);
  EXPECT_NEAR(agent_q[0], 4.0910828, 1e-6);

  // The conditional opponent model behind it (eq. 3.23): rho(b | a=0) ∝
  // exp(-Q(0, b)) = (e^-1, e^-3) -> (0.8808, 0.1192).
  double rho[2];
  BalancingConditionalOpponentModel(kQ, 2, 2, 0, nullptr, -1.0, rho);
  EXPECT_NEAR(rho[0], 0.8807970780, 1e-9);
}

TEST(BalancingQMathTest, Eq330AgainstHandComputedValues) {
  // beta^i = 2, beta^-i = -1, uniform priors:
  //   Q^-i(0) = -1/2 log((e^2 + e^4) / 2) = -1.7168904...
  //   Q^-i(1) = -1/2 log((e^6 + e^0) / 2) = -2.6546642...
  //   rho(0) = 1 / (1 + e^(Q^-i(1) - Q^-i(0))) = 0.7186497...
  //   V^-i = log((e^Q^-i(0) + e^Q^-i(1)) / 2) = -2.0796564...
  double opponent_q[2], rho[2];
  BalancingOpponentQ(kQ, 2, 2, nullptr, 2.0, -1.0, opponent_q);
  EXPECT_NEAR(opponent_q[0], -1.7168904152, 1e-9);
  EXPECT_NEAR(opponent_q[1], -2.6546642523, 1e-9);
  BalancingOpponentModel(opponent_q, nullptr, 2, rho);
  EXPECT_NEAR(rho[0], 0.7186497636, 1e-9);
  EXPECT_NEAR(rho[1], 0.2813502364, 1e-9);
  EXPECT_NEAR(BalancingOpponentValue(opponent_q, nullptr, 2), -2.0796564399,
              1e-9);
  // Its agent model: pi(a | b=1) ∝ exp(2 Q(a, 1)) = (e^6, 1).
  double pi[2];
  BalancingConditionalPolicy(kQ, 2, 2, 1, nullptr, 2.0, pi);
  EXPECT_NEAR(pi[0], 1 / (1 + std::exp(-6.0)), 1e-12);
}

TEST(BalancingQMathTest, SignOfOpponentBetaPicksFriendOrFoe) {
  // Large betas: Q^i(a) / beta^i -> max_b Q(a,b) for a friend (same sign)
  // and min_b Q(a,b) for a foe (opposite sign), up to log(2) / beta.
  const double beta = 1e4;
  double agent_q[2];
  BalancingAgentQ(kQ, 2, 2, nullptr, beta, beta, agent_q);
  EXPECT_NEAR(agent_q[0] / beta, 3.0, 1e-3);
  EXPECT_NEAR(agent_q[1] / beta, 2.0, 1e-3);
  BalancingAgentQ(kQ, 2, 2, nullptr, beta, -beta, agent_q);
  EXPECT_NEAR(agent_q[0] / beta, 1.0, 1e-3);
  EXPECT_NEAR(agent_q[1] / beta, 0.0, 1e-3);
  // Finite and normalised far beyond exp's range.
  double pi[2];
  BalancingPolicy(agent_q, nullptr, 2, pi);
  EXPECT_DOUBLE_EQ(pi[0], 1.0);
  EXPECT_TRUE(
      std::isfinite(BalancingValue(kQ, 2, 2, nullptr, nullptr, 1e8, -1e8)));
}

// A random stochastic game for theorem 8: S states, n x m joint actions,
// rewards in [-1, 1], random transitions.
struct RandomGame {
  int S, n, m;
  double gamma;
  std::vector<double> reward;      // [s][a][b]
  std::vector<double> transition;  // [s][a][b][s']
};

RandomGame MakeGame(uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  RandomGame g{4, 3, 3, 0.8, {}, {}};
  for (int k = 0; k < g.S * g.n * g.m; ++k) {
    g.reward.push_back(2 * u(rng) - 1);
    double total = 0;
    std::vector<double> p(g.S);
    for (double& x : p) total += (x = u(rng));
    for (double x : p) g.transition.push_back(x / total);
  }
  return g;
}

// Q^{pi,rho} of eq. 3.34 by iterating its Bellman equation: pi(a|s,b)
// conditional [s][b][a], rho(b|s) [s][b], uniform priors.
std::vector<double> Evaluate(const RandomGame& g, const std::vector<double>& pi,
                             const std::vector<double>& rho, double beta_agent,
                             double beta_opp) {
  const int n = g.n, m = g.m;
  std::vector<double> q(g.S * n * m, 0.0), j(g.S);
  for (int iteration = 0; iteration < 400; ++iteration) {
    for (int s = 0; s < g.S; ++s) {
      double total = 0;
      for (int b = 0; b < m; ++b) {
        const double r = rho[s * m + b];
        if (r <= 0) continue;
        double inner = 0;
        for (int a = 0; a < n; ++a) {
          const double p = pi[(s * m + b) * n + a];
          if (p <= 0) continue;
          inner += p * (q[(s * n + a) * m + b] - std::log(p * n) / beta_agent);
        }
        total += r * (inner - std::log(r * m) / beta_opp);
      }
      j[s] = total;
    }
    for (int k = 0; k < g.S * n * m; ++k) {
      double next = 0;
      for (int s2 = 0; s2 < g.S; ++s2) {
        next += g.transition[k * g.S + s2] * j[s2];
      }
      q[k] = g.reward[k] + g.gamma * next;
    }
  }
  return q;
}

// Theorem 8 (eq. 3.36): with the agent's policy fixed, the opponent model's
// update (eq. 3.30 / 3.35) lowers every Q when beta^-i < 0 and raises it
// when beta^-i > 0.
void CheckTheorem8(uint64_t seed, double beta_agent, double beta_opp) {
  SCOPED_TRACE(::testing::Message() << "seed " << seed << " beta^i "
                                    << beta_agent << " beta^-i " << beta_opp);
  const RandomGame g = MakeGame(seed);
  const int n = g.n, m = g.m;
  std::mt19937_64 rng(seed + 17);
  std::uniform_real_distribution<double> u(0.05, 1);
  std::vector<double> rho(g.S * m);
  for (int s = 0; s < g.S; ++s) {
    double total = 0;
    for (int b = 0; b < m; ++b) total += (rho[s * m + b] = u(rng));
    for (int b = 0; b < m; ++b) rho[s * m + b] /= total;
  }
  // The proof's policy is the agent model of eq. 3.30 for the current Q:
  // iterate pi <- pi(.|s,b) ∝ exp(beta^i Q^{pi,rho}) to its fixed point.
  std::vector<double> pi(g.S * m * n, 1.0 / n), q;
  for (int round = 0; round < 60; ++round) {
    q = Evaluate(g, pi, rho, beta_agent, beta_opp);
    for (int s = 0; s < g.S; ++s) {
      for (int b = 0; b < m; ++b) {
        BalancingConditionalPolicy(&q[s * n * m], n, m, b, nullptr, beta_agent,
                                   &pi[(s * m + b) * n]);
      }
    }
  }
  q = Evaluate(g, pi, rho, beta_agent, beta_opp);
  // The opponent's update by the code's eq. 3.30.
  std::vector<double> updated(g.S * m), opponent_q(m);
  for (int s = 0; s < g.S; ++s) {
    BalancingOpponentQ(&q[s * n * m], n, m, nullptr, beta_agent, beta_opp,
                       opponent_q.data());
    BalancingOpponentModel(opponent_q.data(), nullptr, m, &updated[s * m]);
  }
  const std::vector<double> q_updated =
      Evaluate(g, pi, updated, beta_agent, beta_opp);
  double largest_change = 0;
  for (size_t k = 0; k < q.size(); ++k) {
    const double change = q_updated[k] - q[k];
    if (beta_opp > 0) {
      EXPECT_GE(change, -1e-9) << "entry " << k;
    } else {
      EXPECT_LE(change, 1e-9) << "entry " << k;
    }
    largest_change = std::max(largest_change, std::fabs(change));
  }
  EXPECT_GT(largest_change, 1e-4);  // the update did something
}

TEST(BalancingQMathTest, Theorem8OpponentUpdateDirection) {
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    CheckTheorem8(seed, 1.5, -1.2);
    CheckTheorem8(seed, 1.5, 1.2);
    CheckTheorem8(seed, 0.7, -3.0);
    CheckTheorem8(seed, 0.7, 3.0);
  }
}

}  // namespace
}  // namespace marl
