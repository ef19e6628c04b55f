#include "agents/maddpg/maddpg_learner.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "agents/maddpg/maddpg_losses.h"
#include "gtest/gtest.h"
#include "runtime/json.h"
#include "runtime/training_loop.h"
#include "runtime/training_test_util.h"

namespace marl {
namespace {

LearnerFactory Factory(const MaddpgOptions& o) {
  return FactoryOf(CreateMaddpgLearner, o);
}

// A linear critic Q = 1 * obs + 2 * a_own + 3 * a_other + 0.5, so targets
// can be checked by hand.
nn::QNetwork LinearCritic() {
  nn::QNetworkOptions o;
  o.obs_dim = 1;
  o.action_dim = 1;
  o.other_action_dim = 1;
  o.hidden = {};
  nn::QNetwork q(o);
  torch::NoGradGuard no_grad;
  for (auto& p : q->named_parameters()) {
    if (p.key().find("weight") != std::string::npos) {
      p.value().copy_(torch::tensor({{1.0f, 2.0f, 3.0f}}));
    } else {
      p.value().fill_(0.5f);
    }
  }
  return q;
}

TEST(MaddpgLossTest, CriticTargetByHand) {
  nn::QNetwork q = LinearCritic();
  const torch::Tensor obs = torch::tensor({{1.0f}, {0.0f}});
  const std::vector<torch::Tensor> next_actions = {
      torch::tensor({{0.5f}, {-1.0f}}), torch::tensor({{1.0f}, {0.5f}})};
  const torch::Tensor reward = torch::tensor({1.0f, 2.0f});
  const torch::Tensor done = torch::tensor({0.0f, 1.0f});
  // Agent 0: Q' = 1 + 1 + 3 + .5 = 5.5 (row 0); row 1 is terminal.
  torch::Tensor y =
      maddpg::CriticTarget(q, 0, obs, next_actions, reward, done, 0.9);
  EXPECT_NEAR(y[0].item<float>(), 1.0 + 0.9 * 5.5, 1e-5);
  EXPECT_NEAR(y[1].item<float>(), 2.0, 1e-6);
  // Agent 1 sees its own action first: Q' = 1 + 2 * 1 + 3 * 0.5 + .5 = 5.
  y = maddpg::CriticTarget(q, 1, obs, next_actions, reward, done, 0.9);
  EXPECT_NEAR(y[0].item<float>(), 1.0 + 0.9 * 5.0, 1e-5);
  EXPECT_FALSE(y.requires_grad());
}

TEST(MaddpgLossTest, ActorLossReplacesOwnActionOnly) {
  nn::QNetwork q = LinearCritic();
  const torch::Tensor obs = torch::tensor({{1.0f}, {0.0f}});
  const std::vector<torch::Tensor> replayed = {
      torch::tensor({{9.0f}, {9.0f}}), torch::tensor({{1.0f}, {-1.0f}})};
  torch::Tensor own = torch::tensor({{0.5f}, {0.0f}}, torch::requires_grad());
  // Q rows: 1 + 1 + 3 + .5 = 5.5 and 0 + 0 - 3 + .5 = -2.5; loss -mean = -1.5.
  torch::Tensor loss = maddpg::ActorLoss(q, 0, obs, replayed, own);
  EXPECT_NEAR(loss.item<float>(), -1.5, 1e-5);
  loss.backward();
  // d(-mean Q)/d own = -2 / 2 per row.
  EXPECT_NEAR(own.grad()[0][0].item<float>(), -1.0, 1e-6);
}

// A Discrete actor's critic input is the straight-through Gumbel-softmax of
// its logits: a one-hot forward value with gradients reaching the logits.
// (Replayed Discrete actions arrive as one-hots from the shared base.)
TEST(MaddpgDiscreteTest, ActorActionIsStraightThroughOneHot) {
  at::Generator gen = at::detail::createCPUGenerator(5);
  torch::Tensor logits = torch::tensor(
      {{0.3f, -1.0f, 2.0f}, {0.0f, 0.0f, 0.0f}}, torch::requires_grad());
  const torch::Tensor own = maddpg::DiscreteActorAction(logits, 1.0, gen);
  ASSERT_EQ(own.sizes(), torch::IntArrayRef({2, 3}));
  EXPECT_TRUE(torch::all((own == 0) | (own == 1)).item<bool>()) << own;
  EXPECT_TRUE(torch::equal(own.sum(-1), torch::ones({2})));
  // Through a linear critic the gradient reaches the logits.
  (own * torch::tensor({1.0f, 2.0f, 3.0f})).sum().backward();
  ASSERT_TRUE(logits.grad().defined());
  EXPECT_GT(logits.grad().abs().sum().item<float>(), 0.0f);

  // The learner on a Discrete-action spec acts with valid indices.
  EnvSpec spec;
  spec.agent_ids = {"player_0", "player_1"};
  spec.observation_spaces = {Space::Discrete(1), Space::Discrete(1)};
  spec.action_spaces = {Space::Discrete(3), Space::Discrete(2)};
  MaddpgOptions o;
  o.base.warmup = 0;
  auto learner = CreateMaddpgLearner(spec, o, 3);
  ASSERT_TRUE(learner.ok()) << learner.status();
  const std::vector<float> zeros(4, 0.0f);
  std::vector<std::vector<int64_t>> discrete = {std::vector<int64_t>(4, -1),
                                                std::vector<int64_t>(4, -1)};
  std::vector<std::vector<float>> continuous(2);
  for (bool deterministic : {false, true}) {
    (*learner)->Act({zeros.data(), zeros.data()}, 4, deterministic, &discrete,
                    &continuous);
    ASSERT_TRUE((*learner)->status().ok()) << (*learner)->status();
    for (int c = 0; c < 4; ++c) {
      EXPECT_GE(discrete[0][c], 0);
      EXPECT_LT(discrete[0][c], 3);
      EXPECT_GE(discrete[1][c], 0);
      EXPECT_LT(discrete[1][c], 2);
    }
  }
}

// config.json records the values used, every digit of them (a text built
// with absl::StrCat kept six significant digits).
TEST(MaddpgConfigTest, RecordsExactValues) {
  EnvSpec spec;
  spec.agent_ids = {"player_0", "player_1"};
  spec.observation_spaces = {Space::Discrete(1), Space::Discrete(1)};
  spec.action_spaces = {Space::Discrete(3), Space::Discrete(2)};
  MaddpgOptions o;
  o.actor_lr = 0.000123456789;
  o.base.gamma = 0.987654321;
  o.base.hidden.sizes = {7, 5};
  auto learner = CreateMaddpgLearner(spec, o, 3);
  ASSERT_TRUE(learner.ok()) << learner.status();
  const std::string config = (*learner)->ConfigJson();
  EXPECT_TRUE(ValidateJson(config).ok()) << config;
  for (const char* want :
       {"\"actor_lr\": 0.000123456789", "\"gamma\": 0.987654321",
        "\"hidden\": [7, 5]", "\"kind\": \"maddpg\""}) {
    EXPECT_NE(config.find(want), std::string::npos) << want << " in " << config;
  }
}

// The coordination game [[4,0],[0,2]]: Discrete MADDPG settles on a pure
// Nash equilibrium, both greedy actions equal.
TEST(MaddpgDiscreteTest, CoordinationGameReachesPureNash) {
  MaddpgOptions o;
  o.base.hidden.sizes = {32, 32};
  o.base.batch_size = 64;
  o.base.warmup = 128;
  o.base.update_ratio = 0.25;
  for (uint64_t seed : {1, 2, 3}) {
    TrainingOptions t;
    t.env = "matrix_game";
    t.env_settings = {{"payoffs_row", "[[4,0],[0,2]]"},
                      {"payoffs_column", "[[4,0],[0,2]]"}};
    t.num_copies = 8;
    t.seed = seed;
    t.steps = 1200;
    t.eval_episodes = 8;
    t.log_every = 400;
    t.runs_root = ::testing::TempDir() + "/runs";
    t.run_name = absl::StrCat("maddpg_coordination_seed", seed);
    absl::StatusOr<TrainingResult> result =
        RunTraining(t, "maddpg", Factory(o));
    ASSERT_TRUE(result.ok()) << result.status();
    ASSERT_EQ(result->agents.size(), 2u);
    ASSERT_EQ(result->agents[0].greedy_action.size(), 1u);
    ASSERT_EQ(result->agents[1].greedy_action.size(), 1u);
    const double a = result->agents[0].greedy_action[0];
    EXPECT_EQ(a, result->agents[1].greedy_action[0])
        << "seed " << seed << ": miscoordinated greedy joint action";
    EXPECT_DOUBLE_EQ(result->agents[0].eval_return, a == 0 ? 4.0 : 2.0)
        << "seed " << seed;
  }
}

TrainingOptions QuadraticsOptions(uint64_t seed, int64_t steps) {
  return ShortTrainingRun("max_of_two_quadratics", seed, steps,
                          absl::StrCat("maddpg_seed", seed, "_", steps));
}

// From the untrained actors' start near (0, 0) (reward about -4.4) MADDPG
// climbs to an optimum: the shared return ends well above the start.
TEST(MaddpgTrainingTest, ImprovesOnMaxOfTwoQuadratics) {
  MaddpgOptions o;
  absl::StatusOr<TrainingResult> result =
      RunTraining(QuadraticsOptions(1, 3000), "maddpg", Factory(o));
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->agents.size(), 2u);
  EXPECT_GT(result->agents[0].eval_return, -0.5);
  EXPECT_DOUBLE_EQ(result->agents[0].eval_return,
                   result->agents[1].eval_return);
}

// Any number of Box agents (the beauty contest with 3 players), and a
// checkpoint restores into a fresh learner.
TEST(MaddpgTrainingTest, ThreeAgentsAndCheckpointRoundTrip) {
  MaddpgOptions o;
  o.base.batch_size = 32;
  o.base.warmup = 64;
  TrainingOptions t = QuadraticsOptions(2, 400);
  t.env = "beauty_contest";
  t.env_settings = {{"num_agents", "3"}};
  t.run_name = "maddpg_beauty";
  ExpectCheckpointRoundTrip(t, "maddpg", Factory(o));
}

}  // namespace
}  // namespace marl
