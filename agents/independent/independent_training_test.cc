// The real training loop through an embedded environment server.
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "agents/independent/independent_learner.h"
#include "envs/core/env.h"
#include "envs/core/registry.h"
#include "gtest/gtest.h"
#include "runtime/public_observation_fold.h"
#include "runtime/run_writer.h"
#include "runtime/training_loop.h"

namespace marl {
namespace {

// A one-shot game with action masks: each agent's best action (2) is
// masked out, so the best legal one is 1 (reward 1, else 0). Playing an
// illegal action fails the step.
class MaskedGame : public Env {
 public:
  MaskedGame() {
    spec_.agent_ids = {"a", "b"};
    spec_.observation_spaces = {Space::Discrete(1), Space::Discrete(1)};
    spec_.action_spaces = {Space::Discrete(3), Space::Discrete(3)};
    spec_.has_action_masks = true;
  }
  const EnvSpec& spec() const override { return spec_; }
  void Reset(const Output& out) override { Mask(out); }
  void Step(const Actions& actions, const Output& out) override {
    for (int agent = 0; agent < 2; ++agent) {
      out.set_reward(agent, actions.discrete(agent) == 1 ? 1.0f : 0.0f);
    }
    out.set_terminated(true);
    Mask(out);
  }

 private:
  static void Mask(const Output& out) {
    for (int agent = 0; agent < 2; ++agent) out.action_mask(agent)[2] = false;
  }
  EnvSpec spec_;
};

MARL_REGISTER_ENV({"test_masked_game",
                   "a one-shot game whose best action is masked out",
                   {},
                   [](const Settings&) -> absl::StatusOr<std::unique_ptr<Env>> {
                     return std::make_unique<MaskedGame>();
                   }});

// The loop's options and the learners' in one, as the binary's flags are.
struct RunOptions : TrainingOptions, IndependentOptions {};

absl::StatusOr<TrainingResult> Train(const RunOptions& setup) {
  return RunTraining(setup, "independent", IndependentFactory(setup));
}

// The same with --observe_public: every agent sees the public observation
// after its own.
absl::StatusOr<TrainingResult> TrainObservingPublic(const RunOptions& setup) {
  return RunTraining(setup, "independent",
                     ObservePublic(IndependentFactory(setup)));
}

// The same seed again gives the same greedy actions (networks seeded from
// the run seed), and the run's final checkpoint restores for evaluation to
// the same.
void ExpectRepeatsAndRestores(
    const RunOptions& o, const TrainingResult& result,
    absl::StatusOr<TrainingResult> (*train)(const RunOptions&) = Train) {
  RunOptions again = o;
  again.run_name = o.run_name + "_again";
  RunOptions eval = o;
  eval.mode = "eval";
  eval.run_name = o.run_name + "_eval";
  eval.restore = result.run_directory + "/checkpoints/final";
  for (const RunOptions& run : {again, eval}) {
    absl::StatusOr<TrainingResult> other = train(run);
    ASSERT_TRUE(other.ok()) << run.run_name << ": " << other.status();
    ASSERT_EQ(other->agents.size(), result.agents.size());
    for (size_t a = 0; a < result.agents.size(); ++a) {
      EXPECT_EQ(other->agents[a].greedy_action, result.agents[a].greedy_action)
          << run.run_name;
    }
  }
}

RunOptions CoordinationOptions(uint64_t seed) {
  RunOptions o;
  o.env = "matrix_game";
  o.env_settings = {{"payoffs_row", "[[4,0],[0,2]]"},
                    {"payoffs_column", "[[4,0],[0,2]]"}};
  o.num_copies = 8;
  o.seed = seed;
  o.steps = 4000;
  o.eval_episodes = 16;
  o.log_every = 500;
  o.runs_root = ::testing::TempDir() + "/runs";
  o.run_name = absl::StrCat("coordination_seed", seed);
  return o;
}

// Both independent soft Q-learners settle on a pure Nash equilibrium of
// the coordination game [[4,0],[0,2]]: both play 0 (payoff 4) or both play
// 1 (payoff 2), never a miscoordinated pair.
TEST(IndependentTrainingTest, CoordinationGameReachesPureNash) {
  for (uint64_t seed : {1, 2, 3, 4}) {
    RunOptions options = CoordinationOptions(seed);
    absl::StatusOr<TrainingResult> result = Train(options);
    ASSERT_TRUE(result.ok()) << result.status();
    ASSERT_EQ(result->agents.size(), 2u);
    const AgentResult& a = result->agents[0];
    const AgentResult& b = result->agents[1];
    EXPECT_EQ(a.note, "soft_q");
    ASSERT_EQ(a.greedy_action.size(), 1u);
    ASSERT_EQ(b.greedy_action.size(), 1u);
    EXPECT_EQ(a.greedy_action[0], b.greedy_action[0])
        << "seed " << seed << ": miscoordinated greedy joint action";
    const double payoff = a.greedy_action[0] == 0 ? 4.0 : 2.0;
    // The greedy joint action is what evaluation plays, every episode.
    EXPECT_DOUBLE_EQ(a.eval_return, payoff) << "seed " << seed;
    EXPECT_DOUBLE_EQ(b.eval_return, payoff) << "seed " << seed;
    EXPECT_EQ(result->steps, 4000);
    EXPECT_EQ(result->episodes, 4000);  // one-shot: every step ends one
    EXPECT_GT(result->steps_per_second, 0);

    // The run directory holds the shared run format.
    const std::string dir = result->run_directory;
    absl::StatusOr<std::string> config = ReadFile(dir + "/config.json");
    ASSERT_TRUE(config.ok()) << config.status();
    EXPECT_NE(config->find("\"env_spec\""), std::string::npos);
    EXPECT_NE(config->find("\"soft_q\""), std::string::npos);
    absl::StatusOr<std::string> metrics = ReadFile(dir + "/metrics.jsonl");
    ASSERT_TRUE(metrics.ok());
    EXPECT_NE(metrics->find("\"phase\": \"train\""), std::string::npos)
        << metrics->substr(0, 300);
    EXPECT_NE(metrics->find("\"prob_a0\""), std::string::npos);
    EXPECT_NE(metrics->find("\"episode_return\""), std::string::npos);
    EXPECT_NE(metrics->find("\"steps_per_second\""), std::string::npos);
    EXPECT_NE(metrics->find("\"eval_return\""), std::string::npos);
    absl::StatusOr<std::string> summary = ReadFile(dir + "/summary.json");
    ASSERT_TRUE(summary.ok());
    EXPECT_NE(summary->find("final_eval_return_player_0"), std::string::npos);
    EXPECT_NE(summary->find("greedy_action_player_1"), std::string::npos);
    EXPECT_TRUE(ReadFile(dir + "/checkpoints/final").ok());
  }
}

TEST(IndependentTrainingTest, SameSeedSameResult) {
  RunOptions a = CoordinationOptions(7);
  a.steps = 800;
  a.run_name = "repeat_a";
  RunOptions b = a;
  b.run_name = "repeat_b";
  auto ra = Train(a);
  auto rb = Train(b);
  ASSERT_TRUE(ra.ok() && rb.ok());
  absl::StatusOr<std::string> ca =
      ReadFile(ra->run_directory + "/checkpoints/final");
  absl::StatusOr<std::string> cb =
      ReadFile(rb->run_directory + "/checkpoints/final");
  ASSERT_TRUE(ca.ok() && cb.ok());
  EXPECT_EQ(*ca, *cb);
}

TEST(IndependentTrainingTest, EvalModeRestoresCheckpoint) {
  RunOptions train = CoordinationOptions(11);
  train.run_name = "to_restore";
  train.checkpoint_every = 1000;
  absl::StatusOr<TrainingResult> trained = Train(train);
  ASSERT_TRUE(trained.ok()) << trained.status();
  EXPECT_TRUE(ReadFile(trained->run_directory + "/checkpoints/step_1000").ok());

  RunOptions eval = CoordinationOptions(99);
  eval.mode = "eval";
  eval.run_name = "restored_eval";
  eval.restore = trained->run_directory + "/checkpoints/final";
  absl::StatusOr<TrainingResult> evaluated = Train(eval);
  ASSERT_TRUE(evaluated.ok()) << evaluated.status();
  EXPECT_EQ(evaluated->steps, 0);
  for (int a = 0; a < 2; ++a) {
    EXPECT_EQ(evaluated->agents[a].greedy_action,
              trained->agents[a].greedy_action);
    EXPECT_EQ(evaluated->agents[a].eval_return, trained->agents[a].eval_return);
  }
}

TEST(IndependentTrainingTest, ClearErrors) {
  RunOptions o = CoordinationOptions(0);
  o.env = "no_such_env";
  o.run_name = "err1";
  EXPECT_EQ(Train(o).status().code(), absl::StatusCode::kNotFound);

  o = CoordinationOptions(0);
  o.run_name = "err2";
  o.learner = "sac";  // Discrete actions
  absl::Status s = Train(o).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("sac needs Box actions"), std::string::npos) << s;

  o = CoordinationOptions(0);
  o.run_name = "err3";
  o.mode = "eval";
  EXPECT_EQ(Train(o).status().code(), absl::StatusCode::kInvalidArgument);

  o = CoordinationOptions(0);
  o.run_name = "err4";
  o.mode = "eval";
  o.restore = ::testing::TempDir() + "/does_not_exist";
  EXPECT_FALSE(Train(o).ok());

  o = CoordinationOptions(0);
  o.run_name = "err5";
  o.env_settings = {{"no_such_setting", "1"}};
  EXPECT_EQ(Train(o).status().code(), absl::StatusCode::kInvalidArgument);

  o = CoordinationOptions(0);
  o.run_name = "err6";
  o.num_copies = 0;
  EXPECT_EQ(Train(o).status().code(), absl::StatusCode::kInvalidArgument);
}

// Truncated episodes: the iterated game runs 10 steps, bootstrapping from
// the final observations of auto-reset copies.
TEST(IndependentTrainingTest, IteratedGameRuns) {
  RunOptions o = CoordinationOptions(5);
  o.env = "iterated_matrix_game";
  o.run_name = "iterated";
  o.steps = 2000;
  absl::StatusOr<TrainingResult> result = Train(o);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->episodes, 2000 / 10);
}

// SAC end to end on a Box-action game: short, checks the plumbing.
TEST(IndependentTrainingTest, SacRunsOnContinuousGame) {
  RunOptions o = CoordinationOptions(3);
  o.env = "max_of_two_quadratics";
  o.env_settings.clear();
  o.run_name = "sac_smoke";
  o.steps = 512;
  o.sac.sac_hidden.sizes = {16, 16};
  o.sac.sac_batch_size = 32;
  o.sac.sac_warmup = 64;
  o.sac.sac_auto_entropy = true;
  o.eval_episodes = 4;
  absl::StatusOr<TrainingResult> result = Train(o);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->agents.size(), 2u);
  for (const AgentResult& agent : result->agents) {
    EXPECT_EQ(agent.note, "sac");
    ASSERT_EQ(agent.greedy_action.size(), 1u);
    EXPECT_GE(agent.greedy_action[0], -10.0);
    EXPECT_LE(agent.greedy_action[0], 10.0);
    EXPECT_TRUE(std::isfinite(agent.eval_return));
  }
  absl::StatusOr<std::string> metrics =
      ReadFile(result->run_directory + "/metrics.jsonl");
  ASSERT_TRUE(metrics.ok());
  EXPECT_NE(metrics->find("\"loss_q\""), std::string::npos);
  EXPECT_NE(metrics->find("\"loss_actor\""), std::string::npos);

  ExpectRepeatsAndRestores(o, *result);
}

// PPO end to end: each agent has a strictly dominant action (1), which
// independent PPO learns, in every seed.
TEST(IndependentTrainingTest, PpoLearnsDominantActions) {
  for (uint64_t seed : {1, 2, 3}) {
    RunOptions o = CoordinationOptions(seed);
    o.env_settings = {{"payoffs_row", "[[0,0],[1,1]]"},
                      {"payoffs_column", "[[0,1],[0,1]]"}};
    o.learner = "ppo";
    o.run_name = absl::StrCat("ppo_dominant_seed", seed);
    o.steps = 4096;
    o.ppo.ppo_rollout = 16;
    o.ppo.ppo_lr = 1e-2;
    o.ppo.ppo_hidden.sizes = {16};
    absl::StatusOr<TrainingResult> result = Train(o);
    ASSERT_TRUE(result.ok()) << result.status();
    for (const AgentResult& agent : result->agents) {
      EXPECT_EQ(agent.note, "ppo");
      EXPECT_EQ(agent.greedy_action, std::vector<double>{1.0})
          << "seed " << seed << ", " << agent.id;
      EXPECT_DOUBLE_EQ(agent.eval_return, 1.0) << "seed " << seed;
    }
    absl::StatusOr<std::string> metrics =
        ReadFile(result->run_directory + "/metrics.jsonl");
    ASSERT_TRUE(metrics.ok());
    EXPECT_NE(metrics->find("\"loss_policy\""), std::string::npos);
    EXPECT_NE(metrics->find("\"clip_fraction\""), std::string::npos);
    absl::StatusOr<std::string> config =
        ReadFile(result->run_directory + "/config.json");
    ASSERT_TRUE(config.ok());
    EXPECT_NE(config->find("\"ppo_rollout\": 16"), std::string::npos);
  }
}

// Independent PPO (rollouts of 16 steps) on `env`, its default settings.
RunOptions PpoOn(const std::string& env, uint64_t seed,
                 const std::string& run_name, int64_t steps) {
  RunOptions o = CoordinationOptions(seed);
  o.env = env;
  o.env_settings.clear();
  o.learner = "ppo";
  o.run_name = run_name;
  o.steps = steps;
  o.ppo.ppo_rollout = 16;
  return o;
}

// PPO on Box actions: the plumbing (squashed Gaussian, actions in the Box),
// the same result twice, and a checkpoint that restores.
TEST(IndependentTrainingTest, PpoRunsOnContinuousGame) {
  RunOptions o = PpoOn("max_of_two_quadratics", 3, "ppo_box", 512);
  o.eval_episodes = 4;
  absl::StatusOr<TrainingResult> result = Train(o);
  ASSERT_TRUE(result.ok()) << result.status();
  for (const AgentResult& agent : result->agents) {
    EXPECT_EQ(agent.note, "ppo");
    ASSERT_EQ(agent.greedy_action.size(), 1u);
    EXPECT_GE(agent.greedy_action[0], -10.0);
    EXPECT_LE(agent.greedy_action[0], 10.0);
  }
  ExpectRepeatsAndRestores(o, *result);
}

// A recurrent PPO policy through the loop: states kept per stream and
// reset at episode starts of a multi-step game; the same seed repeats and
// the checkpoint restores.
TEST(IndependentTrainingTest, RecurrentPpoRunsOnAMultiStepGame) {
  RunOptions o = CoordinationOptions(4);
  o.env = "iterated_matrix_game";
  o.env_settings = {{"episode_length", "5"}};
  o.learner = "ppo";
  o.run_name = "ppo_gru";
  o.steps = 512;
  o.eval_episodes = 8;
  o.ppo.ppo_rollout = 8;
  o.ppo.ppo_bptt = 4;
  o.ppo.ppo_recurrent = 8;
  absl::StatusOr<TrainingResult> result = Train(o);
  ASSERT_TRUE(result.ok()) << result.status();
  for (const AgentResult& agent : result->agents) {
    EXPECT_EQ(agent.note, "ppo");
    EXPECT_TRUE(std::isfinite(agent.eval_return));
  }
  ExpectRepeatsAndRestores(o, *result);
}

// PPO with action masks through the loop: never an illegal action (the
// server would refuse the step), and the best legal one learned.
TEST(IndependentTrainingTest, PpoTakesActionMasks) {
  RunOptions o = PpoOn("test_masked_game", 2, "ppo_masked", 2048);
  o.ppo.ppo_lr = 1e-2;
  absl::StatusOr<TrainingResult> result = Train(o);
  ASSERT_TRUE(result.ok()) << result.status();
  for (const AgentResult& agent : result->agents) {
    EXPECT_EQ(agent.greedy_action, std::vector<double>{1.0}) << agent.id;
    EXPECT_DOUBLE_EQ(agent.eval_return, 1.0) << agent.id;
  }
}

// PPO and the tabular learner play turn-based games, each learning from
// its own turns only.
TEST(IndependentTrainingTest, PpoTakesTurns) {
  RunOptions o = PpoOn("test_turns_game", 3, "ppo_turns", 4096);
  o.eval_episodes = 8;
  o.ppo.ppo_lr = 1e-2;
  absl::StatusOr<TrainingResult> result = Train(o);
  ASSERT_TRUE(result.ok()) << result.status();
  for (const AgentResult& agent : result->agents) {
    // Two turns each per episode, action 1 on both.
    EXPECT_DOUBLE_EQ(agent.eval_return, 2.0) << agent.id;
  }
  o.learner = "soft_q";
  o.run_name = "soft_q_turns";
  o.steps = 2048;
  result = Train(o);
  ASSERT_TRUE(result.ok()) << result.status();
  for (const AgentResult& agent : result->agents) {
    EXPECT_EQ(agent.note, "soft_q");
    EXPECT_DOUBLE_EQ(agent.eval_return, 2.0) << agent.id;
  }
}

// Independent Q-learning on the BAD game (tiny_hanabi's default): tables
// over each agent's card and the public observation (player_0's action),
// each agent learning from its own turn. Always playing the middle action
// earns 8; more needs player_0's action to say its card, which tabular IQL
// finds in some seeds (published mean 8.8). The tables restore.
TEST(IndependentTrainingTest,
     TabularLearnersPlayTheBadGameFromPublicObservations) {
  std::vector<double> returns;
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    RunOptions o = CoordinationOptions(seed);
    o.env = "tiny_hanabi";
    o.env_settings.clear();
    o.learner = "soft_q";
    o.soft_q.gamma = 1.0;
    o.steps = 20000;
    o.eval_episodes = 400;
    o.run_name = absl::StrCat("bad_iql_seed", seed);
    absl::StatusOr<TrainingResult> result = TrainObservingPublic(o);
    ASSERT_TRUE(result.ok()) << result.status();
    ASSERT_EQ(result->agents.size(), 2u);
    EXPECT_EQ(result->agents[0].note, "soft_q");
    returns.push_back(result->agents[0].eval_return);
    if (seed == 1) ExpectRepeatsAndRestores(o, *result, TrainObservingPublic);
  }
  double mean = 0;
  int at_optimum = 0;
  for (double r : returns) {
    mean += r / returns.size();
    at_optimum += r >= 9.9;
  }
  EXPECT_GE(mean, 8.4);
  EXPECT_GE(at_optimum, 2);
}

// A table over Box observations says when it is full, and --learner=auto
// does not pick one silently.
TEST(IndependentTrainingTest, TablesOverBoxObservationsAreBounded) {
  RunOptions o = CoordinationOptions(1);
  o.env = "tiny_hanabi";
  o.env_settings.clear();
  o.learner = "soft_q";
  o.soft_q.soft_q_max_observations = 3;
  o.run_name = "bad_iql_full";
  absl::StatusOr<TrainingResult> result = TrainObservingPublic(o);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(result.status().message().find("more than 3 distinct"),
            std::string::npos)
      << result.status();
  o.learner = "auto";
  o.run_name = "bad_auto";
  result = TrainObservingPublic(o);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(result.status().message().find("--learner=soft_q"),
            std::string::npos)
      << result.status();
}

}  // namespace
}  // namespace marl
