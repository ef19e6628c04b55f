#include "agents/maddpg/maddpg_learner.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "agents/maddpg/maddpg_losses.h"
#include "gtest/gtest.h"
#include "nn/stacked_mlp.h"
#include "runtime/json.h"
#include "runtime/training_loop.h"
#include "runtime/training_test_util.h"

namespace marl {
namespace {

LearnerFactory Factory(const MaddpgOptions& o) {
  return FactoryOf(CreateMaddpgLearner, o);
}

// Two linear critics Q_i = 1 * obs + 2 * a_own + 3 * a_other + 0.5 (their
// inputs: the joint observation, then the agent's own action first), so
// targets can be checked by hand.
nn::StackedMlp LinearCritics() {
  nn::StackedMlpOptions o;
  o.groups = 2;
  o.in = 3;
  o.out = 1;
  nn::StackedMlp q(o);
  torch::NoGradGuard no_grad;
  q->weight(0).copy_(torch::tensor({1.0f, 2.0f, 3.0f}).view({1, 3, 1}));
  q->bias(0).fill_(0.5f);
  return q;
}

TEST(MaddpgLossTest, OwnFirstColumnsPutEachAgentsActionFirst) {
  EXPECT_TRUE(
      torch::equal(maddpg::OwnFirstColumns({1, 2, 1}),
                   torch::tensor({{0, 1, 2, 3}, {1, 2, 0, 3}, {3, 0, 1, 2}},
                                 torch::kInt64)));
}

TEST(MaddpgLossTest, CriticTargetsByHand) {
  nn::StackedMlp q = LinearCritics();
  const torch::Tensor columns = maddpg::OwnFirstColumns({1, 1});
  const torch::Tensor obs = torch::tensor({{1.0f}, {0.0f}});
  const std::vector<torch::Tensor> next_actions = {
      torch::tensor({{0.5f}, {-1.0f}}), torch::tensor({{1.0f}, {0.5f}})};
  const torch::Tensor rewards = torch::tensor({{1.0f, 2.0f}, {1.0f, 2.0f}});
  const torch::Tensor done = torch::tensor({0.0f, 1.0f});
  const torch::Tensor y =
      maddpg::CriticTargets(q, obs, next_actions, columns, rewards, done, 0.9);
  ASSERT_EQ(y.sizes(), torch::IntArrayRef({2, 2}));
  // Agent 0: Q' = 1 + 1 + 3 + .5 = 5.5 (row 0); row 1 is terminal.
  EXPECT_NEAR(y[0][0].item<float>(), 1.0 + 0.9 * 5.5, 1e-5);
  EXPECT_NEAR(y[0][1].item<float>(), 2.0, 1e-6);
  // Agent 1 sees its own action first: Q' = 1 + 2 * 1 + 3 * 0.5 + .5 = 5.
  EXPECT_NEAR(y[1][0].item<float>(), 1.0 + 0.9 * 5.0, 1e-5);
  EXPECT_FALSE(y.requires_grad());
}

TEST(MaddpgLossTest, ActorLossesReplaceOwnActionOnly) {
  nn::StackedMlp q = LinearCritics();
  const torch::Tensor obs = torch::tensor({{1.0f}, {0.0f}});
  const std::vector<torch::Tensor> replayed = {
      torch::tensor({{9.0f}, {9.0f}}), torch::tensor({{1.0f}, {-1.0f}})};
  const std::vector<torch::Tensor> own = {
      torch::tensor({{0.5f}, {0.0f}}, torch::requires_grad()),
      torch::tensor({{2.0f}, {1.0f}}, torch::requires_grad())};
  for (bool same_width : {true, false}) {
    // A third, wider agent (never read by these critics' weights) takes
    // the per-agent path; the first two rows stay the same.
    std::vector<torch::Tensor> r = replayed, o = own;
    torch::Tensor columns = maddpg::OwnFirstColumns({1, 1});
    nn::StackedMlp critics = q;
    if (!same_width) {
      r.push_back(torch::zeros({2, 2}));
      o.push_back(torch::zeros({2, 2}));
      columns = maddpg::OwnFirstColumns({1, 1, 2});
      nn::StackedMlpOptions wide;
      wide.groups = 3;
      wide.in = 5;
      wide.out = 1;
      critics = nn::StackedMlp(wide);
      torch::NoGradGuard no_grad;
      critics->weight(0).zero_();
      critics->weight(0).slice(1, 0, 3).copy_(
          torch::tensor({1.0f, 2.0f, 3.0f}).view({1, 3, 1}).expand({3, 3, 1}));
      critics->bias(0).fill_(0.5f);
    }
    for (const torch::Tensor& t : own) {
      if (t.grad().defined()) t.grad().zero_();
    }
    const torch::Tensor losses =
        maddpg::ActorLosses(critics, obs, r, o, columns);
    // Agent 0: Q rows 1 + 1 + 3 + .5 = 5.5 and 0 + 0 - 3 + .5 = -2.5, so
    // -mean = -1.5. Agent 1 (own 2, 1; others' 9, 9): 1 + 4 + 27 + .5 and
    // 0 + 2 + 27 + .5: -31.
    EXPECT_NEAR(losses[0].item<float>(), -1.5, 1e-5);
    EXPECT_NEAR(losses[1].item<float>(), -31.0, 1e-4);
    losses.sum().backward();
    // d(-mean Q_i)/d own_i = -2 / 2 per row.
    EXPECT_NEAR(own[0].grad()[0][0].item<float>(), -1.0, 1e-6);
    EXPECT_NEAR(own[1].grad()[1][0].item<float>(), -1.0, 1e-6);
  }
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
