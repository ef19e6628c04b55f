#include "agents/gr2/gr2_networks.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <vector>

#include "agents/gr2/gr2_math.h"
#include "gtest/gtest.h"
#include "nn/q_network.h"

namespace marl {
namespace gr2 {
namespace {

TEST(LevelDominanceLoss, ZeroWhenLevelKWeaklyDominates) {
  torch::Tensor q_k = torch::tensor({1.0f, 2.0f, 3.0f});
  torch::Tensor q_km2 = torch::tensor({0.5f, 2.0f, -1.0f});
  EXPECT_EQ(LevelDominanceLoss(q_k, q_km2).item<float>(), 0.0f);
}

TEST(LevelDominanceLoss, PositiveWhereLevelKFallsBehind) {
  torch::Tensor q_k = torch::tensor({1.0f, 0.0f}, torch::requires_grad());
  torch::Tensor q_km2 = torch::tensor({0.0f, 2.0f});
  torch::Tensor loss = LevelDominanceLoss(q_k, q_km2);
  EXPECT_FLOAT_EQ(loss.item<float>(), 1.0f);  // mean(0, 2)
  loss.backward();
  // Only the lagging element is pushed up.
  EXPECT_FLOAT_EQ(q_k.grad()[0].item<float>(), 0.0f);
  EXPECT_FLOAT_EQ(q_k.grad()[1].item<float>(), -0.5f);
}

// A joint critic Q(s, own, other) on one-hots (3 actions, 1 obs input) that
// reproduces the table exactly: hidden unit 3a+b fires (value 1) only
// for own = a and other = b, and the output weight is table[a][b].
nn::QNetwork TableCritic(const std::vector<std::vector<float>>& table) {
  nn::QNetworkOptions o;
  o.obs_dim = 1;
  o.action_dim = 3;
  o.other_action_dim = 3;
  o.hidden = {9};
  at::Generator init = at::make_generator<at::CPUGeneratorImpl>(0);
  nn::QNetwork q(o, init);
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> p = q->parameters();  // W0, b0, W1, b1
  p[0].zero_();
  p[1].fill_(-1.0f);
  p[3].zero_();
  for (int a = 0; a < 3; ++a) {
    for (int b = 0; b < 3; ++b) {
      p[0][3 * a + b][1 + a] = 1.0f;  // input layout: obs, own, other
      p[0][3 * a + b][4 + b] = 1.0f;
      p[2][0][3 * a + b] = table[a][b];
    }
  }
  return q;
}

std::vector<int64_t> Actions(const std::vector<torch::Tensor>& one_hots,
                             int row) {
  std::vector<int64_t> out;
  for (const torch::Tensor& t : one_hots) {
    out.push_back(t.argmax(-1)[row].item<int64_t>());
  }
  return out;
}

TEST(EveryActionQ, MatchesTheCriticActionByAction) {
  const std::vector<std::vector<float>> m = {
      {0, -1, 2}, {3, 0, -1}, {-1, 4, 0}};
  nn::QNetwork q = TableCritic(m);
  const torch::Tensor obs = torch::zeros({2, 1});
  const torch::Tensor opp = torch::tensor({{0.0f, 1.0f, 0.0f},    // b = 1
                                           {0.5f, 0.0f, 0.5f}});  // mixed
  const torch::Tensor all = EveryActionQ(*q, obs, opp, 3);
  ASSERT_EQ(all.sizes(), (std::vector<int64_t>{2, 3}));
  for (int a = 0; a < 3; ++a) {
    EXPECT_FLOAT_EQ(all[0][a].item<float>(), m[a][1]);
    const torch::Tensor own =
        torch::zeros({2, 3}).index_fill_(1, torch::tensor({int64_t{a}}), 1.0f);
    EXPECT_FLOAT_EQ(all[1][a].item<float>(),
                    q->forward(obs, own, opp)[1][0].item<float>());
  }
}

TEST(GreedyOneHot, TiesGoToTheLowestIndex) {
  const torch::Tensor g =
      GreedyOneHot(torch::tensor({{1.0f, 1.0f, 0.0f}, {0.0f, 2.0f, 3.0f}}));
  EXPECT_TRUE(
      torch::equal(g, torch::tensor({{1.0f, 0.0f, 0.0f}, {0.0f, 0.0f, 1.0f}})));
}

// 3x3 game with fixed Q tables. Agent i (rows a, columns the opponent's b)
// M = [[0,-1,2],[3,0,-1],[-1,4,0]]: its best response to b is b+1 mod 3.
// The opponent's scores N[a][b] = [[5,1,0],[0,2,1],[1,0,3]]: it copies a.
// By hand, from (self0, opp0) = (0, 1):
//   self1 = BR_i(opp0 = 1) = 2,  opp1 = BR_o(self0 = 0) = 0,
//   self2 = BR_i(opp1 = 0) = 1,  opp2 = BR_o(self1 = 2) = 2,
//   self3 = BR_i(opp2 = 2) = 0,  opp3 = BR_o(self2 = 1) = 1;
// from (2, 2): self1 = BR_i(2) = 0, opp1 = 2, self2 = BR_i(2) = 0,
//   opp2 = BR_o(0) = 0, self3 = BR_i(0) = 1.
TEST(RollOutDiscreteLevels, GreedyLevelsOfAFixedQTable) {
  nn::QNetwork q_self = TableCritic({{0, -1, 2}, {3, 0, -1}, {-1, 4, 0}});
  // The opponent's critic: own action b, other (agent i's) action a.
  nn::QNetwork q_opp = TableCritic({{5, 0, 1}, {1, 2, 0}, {0, 1, 3}});
  const torch::Tensor obs = torch::zeros({2, 1});
  const torch::Tensor self0 =
      torch::tensor({{1.0f, 0.0f, 0.0f}, {0.0f, 0.0f, 1.0f}});
  const torch::Tensor opp0 =
      torch::tensor({{0.0f, 1.0f, 0.0f}, {0.0f, 0.0f, 1.0f}});
  torch::NoGradGuard no_grad;
  LevelRollout<torch::Tensor> r = RollOutDiscreteLevels(
      3, self0, opp0,
      [&](const torch::Tensor& b) { return EveryActionQ(*q_self, obs, b, 3); },
      [&](const torch::Tensor& a) { return EveryActionQ(*q_opp, obs, a, 3); });
  ASSERT_EQ(r.self.size(), 4u);
  EXPECT_EQ(Actions(r.self, 0), (std::vector<int64_t>{0, 2, 1, 0}));
  EXPECT_EQ(Actions(r.opponent, 0), (std::vector<int64_t>{1, 0, 2, 1}));
  EXPECT_EQ(Actions(r.self, 1), (std::vector<int64_t>{2, 0, 0, 1}));
  EXPECT_EQ(Actions(r.opponent, 1), (std::vector<int64_t>{2, 2, 0, 0}));
  // The dominance condition holds by construction: level k is the argmax
  // against the opponents' level k-1, so the hinge is zero.
  for (int k = 2; k <= 3; ++k) {
    const torch::Tensor& opp = r.opponent[k - 1];
    EXPECT_EQ(LevelDominanceLoss(q_self->forward(obs, r.self[k], opp),
                                 q_self->forward(obs, r.self[k - 2], opp))
                  .item<float>(),
              0.0f);
  }
}

TEST(MixtureVote, WeightedVoteCanDifferFromTheLikeliestLevel) {
  // Levels 0..3 play 0, 2, 1, 0 with Poisson(1.5) weights (0.239, 0.358,
  // 0.269, 0.134): action 0 collects 0.373 > 0.358 (level 1's action 2).
  const std::vector<double> w = *PoissonLevelWeights(1.5, 3);
  auto one_hot = [](int64_t a) {
    return torch::one_hot(torch::tensor({a}), 3).to(torch::kFloat);
  };
  EXPECT_EQ(MixtureVote({one_hot(0), one_hot(2), one_hot(1), one_hot(0)}, w)
                .item<int64_t>(),
            0);
  EXPECT_EQ(MixtureVote({one_hot(1), one_hot(2), one_hot(2), one_hot(0)}, w)
                .item<int64_t>(),
            2);
}

}  // namespace
}  // namespace gr2
}  // namespace marl
