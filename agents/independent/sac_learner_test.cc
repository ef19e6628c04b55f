#include "agents/independent/sac_learner.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <cmath>
#include <vector>

#include "gtest/gtest.h"
#include "nn/mlp.h"
#include "nn/q_network.h"
#include "nn/tanh_gaussian.h"

namespace marl {
namespace {

// SAC's policy sample: a tanh-Gaussian from given noise, scaled to the Box
// [center - scale, center + scale]; log_prob is the density of the
// normalised action in (-1, 1).
struct SquashedSample {
  torch::Tensor action;      // in the Box
  torch::Tensor normalized;  // in (-1, 1)
  torch::Tensor log_prob;
};

SquashedSample SquashedGaussian(const torch::Tensor& mean,
                                const torch::Tensor& log_std,
                                const torch::Tensor& noise,
                                const torch::Tensor& center,
                                const torch::Tensor& scale) {
  nn::TanhGaussianSample s = nn::TanhGaussianFromNoise(mean, log_std, noise);
  return {nn::ScaleToBox(s.action, center - scale, center + scale), s.action,
          s.log_prob};
}

TEST(SquashedGaussianTest, LogProbMatchesHandComputation) {
  // Element 0: mean 0.5, std 0.4, noise 1.5 -> u = 1.1.
  // Element 1: mean -1, std 2, noise -0.25 -> u = -1.5.
  // log p = -noise^2/2 - log std - log(2 pi)/2 - log(1 - tanh(u)^2), summed.
  torch::Tensor mean = torch::tensor({{0.5, -1.0}}, torch::kDouble);
  torch::Tensor log_std =
      torch::tensor({{std::log(0.4), std::log(2.0)}}, torch::kDouble);
  torch::Tensor noise = torch::tensor({{1.5, -0.25}}, torch::kDouble);
  torch::Tensor center = torch::tensor({1.0, 0.0}, torch::kDouble);
  torch::Tensor scale = torch::tensor({2.0, 10.0}, torch::kDouble);
  SquashedSample s = SquashedGaussian(mean, log_std, noise, center, scale);
  ASSERT_EQ(s.log_prob.sizes(), torch::IntArrayRef({1}));
  EXPECT_NEAR(s.log_prob[0].item<double>(), -0.03623089465004092, 1e-12);
  EXPECT_NEAR(s.normalized[0][0].item<double>(), 0.8004990217606297, 1e-12);
  EXPECT_NEAR(s.normalized[0][1].item<double>(), -0.9051482536448664, 1e-12);
  // Scaled to the bounds: center + scale * tanh(u).
  EXPECT_NEAR(s.action[0][0].item<double>(), 1.0 + 2.0 * 0.8004990217606297,
              1e-12);
  EXPECT_NEAR(s.action[0][1].item<double>(), -9.051482536448664, 1e-11);
}

TEST(SquashedGaussianTest, SingleElementAndStableForLargeInputs) {
  torch::Tensor one = torch::ones({1, 1}, torch::kDouble);
  SquashedSample s = SquashedGaussian(0.5 * one, std::log(0.4) * one, 1.5 * one,
                                      0 * one[0], one[0]);
  EXPECT_NEAR(s.log_prob[0].item<double>(), -0.10377552291301617, 1e-12);
  // |u| = 30 in float: the naive log(1 - tanh^2) is log(0) = -inf.
  torch::Tensor f = torch::ones({1, 1});
  SquashedSample big = SquashedGaussian(30 * f, 0 * f, 0 * f, 0 * f[0], f[0]);
  EXPECT_TRUE(std::isfinite(big.log_prob[0].item<float>()));
  EXPECT_NEAR(big.log_prob[0].item<float>(),
              -0.5 * std::log(2 * M_PI) - 2 * (std::log(2.0) - 30), 1e-3);
}

TEST(SquashedGaussianTest, ReparameterisedGradientFlowsToMean) {
  torch::Tensor mean = torch::full({1, 1}, 0.3, torch::requires_grad());
  torch::Tensor zero = torch::zeros({1, 1});
  SquashedSample s = SquashedGaussian(mean, zero, zero, torch::zeros({1}),
                                      torch::full({1}, 5.0));
  s.action.sum().backward();
  const double t = std::tanh(0.3);
  EXPECT_NEAR(mean.grad()[0][0].item<double>(), 5.0 * (1 - t * t), 1e-5);
}

TEST(PolyakTest, TargetMovesTauOfTheWay) {
  const std::vector<int64_t> hidden = {3};
  at::Generator init = at::make_generator<at::CPUGeneratorImpl>(0);
  torch::nn::Sequential source = nn::MakeMlp(2, hidden, 1, init);
  torch::nn::Sequential target = nn::MakeMlp(2, hidden, 1, init);
  {
    torch::NoGradGuard no_grad;
    for (auto& p : source->parameters()) p.fill_(1.0);
    for (auto& p : target->parameters()) p.fill_(0.0);
  }
  nn::PolyakUpdate(*target, *source, 0.1);
  for (auto& p : target->parameters()) {
    EXPECT_TRUE(torch::allclose(p, torch::full_like(p, 0.1)));
  }
  nn::PolyakUpdate(*target, *source, 0.1);  // 0.9 * 0.1 + 0.1
  for (auto& p : target->parameters()) {
    EXPECT_TRUE(torch::allclose(p, torch::full_like(p, 0.19)));
  }
  nn::HardUpdate(*target, *source);
  for (auto& p : target->parameters()) {
    EXPECT_TRUE(torch::allclose(p, torch::ones_like(p)));
  }
  for (auto& p : source->parameters()) {  // the source is untouched
    EXPECT_TRUE(torch::allclose(p, torch::ones_like(p)));
  }
}

SacOptions BanditOptions() {
  SacOptions options;
  options.sac_hidden.sizes = {32, 32};
  options.sac_actor_lr = 3e-3;
  // Rewards reach -64: a faster critic keeps up with the actor.
  options.sac_critic_lr = 1e-2;
  options.sac_alpha = 0.2;
  options.sac_batch_size = 64;
  options.sac_warmup = 64;
  options.sac_update_ratio = 1.0;
  return options;
}

using Bounds = std::vector<std::vector<float>>;

// Agent `agent`'s deterministic action at observation 1.
float Deterministic(SacLearner& learner, int agent = 0) {
  const int64_t g = learner.num_agents();
  std::vector<float> obs(g, 1.0f), actions(g);
  std::vector<const float*> in;
  std::vector<float*> out;
  for (int64_t i = 0; i < g; ++i) {
    in.push_back(&obs[i]);
    out.push_back(&actions[i]);
  }
  learner.Act(in, 1, /*deterministic=*/true, out);
  return actions[agent];
}

TEST(SacLearnerTest, RejectsBadArguments) {
  EXPECT_FALSE(SacLearner::Create(0, {{-1}}, {{1}}, SacOptions(), 0).ok());
  EXPECT_FALSE(SacLearner::Create(1, {{1}}, {{-1}}, SacOptions(), 0).ok());
  EXPECT_FALSE(SacLearner::Create(1, {{-1}}, {{1, 2}}, SacOptions(), 0).ok());
  EXPECT_FALSE(
      SacLearner::Create(1, {{-INFINITY}}, {{1}}, SacOptions(), 0).ok());
  EXPECT_FALSE(SacLearner::Create(1, {}, {}, SacOptions(), 0).ok());
  // Agents of one group have one action size.
  EXPECT_FALSE(
      SacLearner::Create(1, {{-1}, {-1, -1}}, {{1}, {1, 1}}, SacOptions(), 0)
          .ok());
  SacOptions options;
  options.sac_tau = 0;
  EXPECT_FALSE(SacLearner::Create(1, {{-1}}, {{1}}, options, 0).ok());
}

TEST(SacLearnerTest, ActionsStayInEachAgentsBounds) {
  auto learner =
      SacLearner::Create(2, {{0.0f, -1.0f}, {-3.0f, 5.0f}},
                         {{100.0f, 1.0f}, {-2.0f, 6.0f}}, BanditOptions(), 1);
  ASSERT_TRUE(learner.ok()) << learner.status();
  std::vector<float> obs(2 * 50, 0.5f);
  std::vector<std::vector<float>> actions(2, std::vector<float>(2 * 50));
  const Bounds low = {{0.0f, -1.0f}, {-3.0f, 5.0f}};
  const Bounds high = {{100.0f, 1.0f}, {-2.0f, 6.0f}};
  for (bool deterministic : {false, true}) {
    for (int round = 0; round < 3; ++round) {
      (*learner)->Act({obs.data(), obs.data()}, 50, deterministic,
                      {actions[0].data(), actions[1].data()});
      for (int g = 0; g < 2; ++g) {
        for (int i = 0; i < 50; ++i) {
          for (int k = 0; k < 2; ++k) {
            EXPECT_GE(actions[g][2 * i + k], low[g][k]);
            EXPECT_LE(actions[g][2 * i + k], high[g][k]);
          }
        }
      }
    }
  }
}

// Plays `steps` one-step bandit steps on every agent of `learner` (at
// observation 1, agent g rewarded -(a - optimum[g])^2); the updates run.
int Play(SacLearner& learner, int steps, const std::vector<float>& optimum) {
  const int64_t g = learner.num_agents();
  std::vector<float> obs(g, 1.0f), action(g), reward(g);
  std::vector<const float*> in, acted, rewards;
  std::vector<float*> out;
  for (int64_t a = 0; a < g; ++a) {
    in.push_back(&obs[a]);
    out.push_back(&action[a]);
    acted.push_back(&action[a]);
    rewards.push_back(&reward[a]);
  }
  int updates = 0;
  for (int i = 0; i < steps; ++i) {
    learner.Act(in, 1, false, out);
    for (int64_t a = 0; a < g; ++a) {
      reward[a] = -(action[a] - optimum[a]) * (action[a] - optimum[a]);
    }
    learner.Observe(in, acted, rewards, in, 0, /*terminated=*/true);
    updates += learner.TrainPending(nullptr);
  }
  return updates;
}

// One-step bandits on [-5, 5]: a few hundred updates move each agent's
// deterministic action from near 0 to near its own optimum (a group learns
// each agent alone).
void RunBandit(bool auto_entropy, uint64_t seed,
               const std::vector<float>& optimum) {
  SacOptions options = BanditOptions();
  options.sac_auto_entropy = auto_entropy;
  const int g = static_cast<int>(optimum.size());
  auto created = SacLearner::Create(1, Bounds(g, {-5.0f}), Bounds(g, {5.0f}),
                                    options, seed);
  ASSERT_TRUE(created.ok()) << created.status();
  SacLearner& learner = **created;
  std::vector<float> before;
  for (int a = 0; a < g; ++a) before.push_back(Deterministic(learner, a));
  const double initial_alpha = learner.alpha(0);
  const int updates = Play(learner, 500, optimum);
  // Updates begin once a batch (64) is stored, one per transition.
  EXPECT_EQ(updates, 500 - 63);
  EXPECT_EQ(learner.updates(), updates);
  for (int a = 0; a < g; ++a) {
    const float after = Deterministic(learner, a);
    EXPECT_LT(std::abs(after - optimum[a]), 0.75f)
        << "agent " << a << " before " << before[a] << " after " << after
        << " auto_entropy=" << auto_entropy << " seed " << seed;
    EXPECT_LT(std::abs(after - optimum[a]), std::abs(before[a] - optimum[a]));
    if (auto_entropy) {
      EXPECT_NE(learner.alpha(a), initial_alpha);
    } else {
      EXPECT_EQ(learner.alpha(a), initial_alpha);
    }
  }
}

TEST(SacLearnerTest, BanditMovesMeanActionTowardOptimum) {
  RunBandit(/*auto_entropy=*/false, 3, {3.0f});
  RunBandit(/*auto_entropy=*/false, 5, {3.0f});
}

TEST(SacLearnerTest, AGroupLearnsEachAgentsOwnOptimum) {
  RunBandit(/*auto_entropy=*/false, 3, {3.0f, -2.0f, 0.5f});
}

TEST(SacLearnerTest, BanditWithAutomaticEntropyTuning) {
  RunBandit(/*auto_entropy=*/true, 3, {3.0f, -2.0f});
}

TEST(SacLearnerTest, SaveLoadRoundTrip) {
  const Bounds low(2, {-5.0f}), high(2, {5.0f});
  auto a = SacLearner::Create(1, low, high, BanditOptions(), 11);
  auto b = SacLearner::Create(1, low, high, BanditOptions(), 12);
  ASSERT_TRUE(a.ok() && b.ok());
  Play(**a, 100, {0.0f, 0.0f});
  ASSERT_NE(Deterministic(**a), Deterministic(**b));
  absl::StatusOr<std::string> bytes = (*a)->Save(/*with_replay=*/true);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  ASSERT_TRUE((*b)->Load(*bytes).ok());
  for (int agent = 0; agent < 2; ++agent) {
    EXPECT_EQ(Deterministic(**a, agent), Deterministic(**b, agent));
  }
  EXPECT_EQ((*b)->transitions(), 100);
  EXPECT_EQ((*b)->updates(), (*a)->updates());
  // Same generators and replay: identical stochastic actions and updates.
  Play(**a, 20, {0.0f, 0.0f});
  Play(**b, 20, {0.0f, 0.0f});
  EXPECT_EQ(Deterministic(**a, 1), Deterministic(**b, 1));

  EXPECT_FALSE((*b)->Load("not a checkpoint").ok());
  auto wide = SacLearner::Create(3, low, high, BanditOptions(), 1);
  ASSERT_TRUE(wide.ok());
  absl::Status s = (*wide)->Load(*bytes);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  auto three = SacLearner::Create(1, Bounds(3, {-5.0f}), Bounds(3, {5.0f}),
                                  BanditOptions(), 1);
  ASSERT_TRUE(three.ok());
  EXPECT_EQ((*three)->Load(*bytes).code(), absl::StatusCode::kInvalidArgument);
  SacOptions bigger = BanditOptions();
  bigger.sac_hidden.sizes = {16};
  auto other = SacLearner::Create(1, low, high, bigger, 1);
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE((*other)->Load(*bytes).ok());
}

}  // namespace
}  // namespace marl
