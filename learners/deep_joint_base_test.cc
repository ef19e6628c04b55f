#include "learners/deep_joint_base.h"

#include <torch/torch.h>

#include <cmath>
#include <map>
#include <vector>

#include "gtest/gtest.h"

namespace marl {
namespace deep {
namespace {

// A learner that records what the base hands it: the minibatch of an
// update, and which Box/Discrete policy the base asked for.
class RecordingLearner : public DeepJointLearner {
 public:
  absl::Status Setup(const EnvSpec& spec, bool allow_discrete,
                     int64_t warmup = 0) {
    DeepJointParams o;
    o.batch_size = 4;
    o.warmup = warmup;
    o.update_ratio = 0;  // updates only when the test asks
    return Init(spec, o, 7, "recording", allow_discrete);
  }
  Minibatch last;
  int discrete_calls = 0;

 protected:
  torch::Tensor Policy(int agent, const std::vector<torch::Tensor>& obs,
                       bool deterministic) override {
    return torch::full({obs[agent].size(0), action_dim(agent)}, 0.5);
  }
  torch::Tensor DiscretePolicy(int agent, const std::vector<torch::Tensor>& obs,
                               bool deterministic) override {
    ++discrete_calls;
    return torch::full({obs[agent].size(0)}, num_actions(agent) - 1,
                       torch::kInt64);
  }
  void Update(const Minibatch& batch) override { last = batch; }
  void NamedState(
      std::vector<std::pair<std::string, torch::nn::Module*>>* modules,
      std::vector<std::pair<std::string, torch::optim::Optimizer*>>* optimizers)
      override {}
};

EnvSpec MixedSpec() {
  EnvSpec spec;
  spec.agent_ids = {"chooser", "mover"};
  spec.observation_spaces = {Space::Discrete(2), Space::Discrete(2)};
  spec.action_spaces = {Space::Discrete(3), Space::Box({1}, {-10.0f}, {10.0f})};
  return spec;
}

// Two copies of MixedSpec, both seeing `obs` before and after: the
// chooser's actions `chosen`, the mover's `moves`; `done` ends both.
TransitionBatch MixedBatch(const std::vector<float>& obs,
                           const std::vector<int64_t>& chosen,
                           const std::vector<float>& moves,
                           const std::vector<float>& reward, const bool* done) {
  TransitionBatch batch;
  batch.num_copies = 2;
  batch.observation = {obs.data(), obs.data()};
  batch.next_observation = {obs.data(), obs.data()};
  batch.discrete_action = {chosen.data(), nullptr};
  batch.continuous_action = {nullptr, moves.data()};
  batch.reward = {reward.data(), reward.data()};
  batch.terminated = done;
  batch.truncated = done;
  return batch;
}

TEST(DeepJointBaseTest, DiscreteActionsNeedTheAlgorithmsConsent) {
  RecordingLearner learner;
  absl::Status s = learner.Setup(MixedSpec(), /*allow_discrete=*/false);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented) << s;
}

TEST(DeepJointBaseTest, DiscreteActionsActAsIndicesAndReplayAsOneHots) {
  RecordingLearner learner;
  ASSERT_TRUE(learner.Setup(MixedSpec(), /*allow_discrete=*/true).ok());
  EXPECT_TRUE(learner.is_discrete(0));
  EXPECT_FALSE(learner.is_discrete(1));
  EXPECT_EQ(learner.action_dim(0), 3);
  EXPECT_EQ(learner.total_action_dim(), 4);

  const std::vector<float> obs = {0, 1};
  std::vector<std::vector<int64_t>> discrete = {{-1, -1}, {}};
  std::vector<std::vector<float>> continuous = {{}, {0, 0}};
  learner.Act({obs.data(), obs.data()}, 2, false, &discrete, &continuous);
  ASSERT_TRUE(learner.status().ok()) << learner.status();
  EXPECT_EQ(learner.discrete_calls, 1);
  EXPECT_EQ(discrete[0], (std::vector<int64_t>{2, 2}));
  EXPECT_FLOAT_EQ(continuous[1][0], 5.0f);  // 0.5 of [-10, 10]

  // Store copy 0 taking action 1 and copy 1 action 0; sample both back.
  const std::vector<int64_t> chosen = {1, 0};
  const std::vector<float> moves = {-10.0f, 10.0f};
  const std::vector<float> reward = {1.0f, 2.0f};
  const bool done[2] = {true, false};
  const TransitionBatch batch = MixedBatch(obs, chosen, moves, reward, done);
  learner.Learn(batch);
  ASSERT_TRUE(learner.UpdateOnce().ok());
  const Minibatch& mb = learner.last;
  ASSERT_EQ(mb.action[0].sizes(), torch::IntArrayRef({4, 3}));
  for (int64_t r = 0; r < 4; ++r) {
    // The row's observation tells which copy it came from.
    const bool copy1 = mb.obs[0][r][1].item<float>() == 1.0f;
    const torch::Tensor expect_one_hot =
        copy1 ? torch::tensor({1.0f, 0.0f, 0.0f})
              : torch::tensor({0.0f, 1.0f, 0.0f});
    EXPECT_TRUE(torch::equal(mb.action[0][r], expect_one_hot)) << r;
    EXPECT_FLOAT_EQ(mb.action[1][r][0].item<float>(), copy1 ? 1.0f : -1.0f);
    EXPECT_FLOAT_EQ(mb.reward[0][r].item<float>(), copy1 ? 2.0f : 1.0f);
  }
}

// During warm-up Discrete agents act uniformly without asking the policy.
TEST(DeepJointBaseTest, WarmupDrawsUniformDiscreteIndices) {
  RecordingLearner learner;
  ASSERT_TRUE(learner.Setup(MixedSpec(), true, /*warmup=*/100).ok());
  const std::vector<float> obs(64, 0.0f);
  std::vector<std::vector<int64_t>> discrete = {std::vector<int64_t>(64, -1),
                                                {}};
  std::vector<std::vector<float>> continuous = {{}, std::vector<float>(64)};
  learner.Act({obs.data(), obs.data()}, 64, false, &discrete, &continuous);
  ASSERT_TRUE(learner.status().ok()) << learner.status();
  EXPECT_EQ(learner.discrete_calls, 0);
  std::vector<int> counts(3, 0);
  for (int64_t a : discrete[0]) {
    ASSERT_GE(a, 0);
    ASSERT_LT(a, 3);
    ++counts[a];
  }
  for (int k = 0; k < 3; ++k) EXPECT_GT(counts[k], 5) << k;
}

// A learner with a per-step latent: each copy's latent counts the steps of
// its episode in its stream (a toy of an option kept between steps).
class CountingLatentLearner : public RecordingLearner {
 public:
  absl::Status Setup(const EnvSpec& spec) {
    DeepJointParams o;
    o.batch_size = 4;
    o.warmup = 0;
    o.update_ratio = 0;
    return Init(spec, o, 7, "counting", /*allow_discrete_actions=*/true,
                /*latent_widths=*/{1, 0});
  }
  std::vector<ActingStream> streams;

 protected:
  void ChooseLatents(const std::vector<torch::Tensor>& obs, bool deterministic,
                     bool random) override {
    streams.push_back(acting_stream());
    std::vector<float>& count = counts_[static_cast<int>(acting_stream())];
    count.resize(obs[0].size(0), 0.0f);
    for (int c = 0; c < obs[0].size(0); ++c) {
      count[c] = EpisodeStarts(c) ? 1.0f : count[c] + 1.0f;
      latent(0)[c] = count[c];
    }
  }

 private:
  std::map<int, std::vector<float>> counts_;
};

TEST(DeepJointBaseTest, LatentsFollowTheActingStreamAndReachTheReplay) {
  CountingLatentLearner learner;
  ASSERT_TRUE(learner.Setup(MixedSpec()).ok());
  EXPECT_EQ(learner.latent_width(0), 1);
  const std::vector<float> obs = {0, 1};
  std::vector<std::vector<int64_t>> discrete = {{-1, -1}, {}};
  std::vector<std::vector<float>> continuous = {{}, {0, 0}};
  auto act = [&](ActingStream stream, bool first0, bool first1) {
    const bool first[2] = {first0, first1};
    learner.SetActingContext(stream, first);
    learner.Act({obs.data(), obs.data()}, 2, false, &discrete, &continuous);
  };
  const std::vector<int64_t> chosen = {1, 0};
  const std::vector<float> moves = {0.0f, 0.0f}, reward = {0.0f, 0.0f};
  const bool done[2] = {false, false};
  const TransitionBatch batch = MixedBatch(obs, chosen, moves, reward, done);

  // A transition before any training Act: its latents are unknown.
  {
    CountingLatentLearner fresh;
    ASSERT_TRUE(fresh.Setup(MixedSpec()).ok());
    fresh.Learn(batch);
    EXPECT_EQ(fresh.status().code(), absl::StatusCode::kFailedPrecondition);
  }
  act(ActingStream::kTrain, true, true);   // counts 1, 1
  act(ActingStream::kEval, true, true);    // its own counts
  act(ActingStream::kEval, false, false);  // eval 2, 2
  act(ActingStream::kTrain, false, true);  // train 2, 1 (copy 1 restarts)
  ASSERT_TRUE(learner.status().ok()) << learner.status();
  EXPECT_EQ(learner.streams, (std::vector<ActingStream>{
                                 ActingStream::kTrain, ActingStream::kEval,
                                 ActingStream::kEval, ActingStream::kTrain}));
  // Learn stores the last training Act's latents, not the eval ones.
  learner.Learn(batch);
  ASSERT_TRUE(learner.status().ok()) << learner.status();
  ASSERT_TRUE(learner.UpdateOnce().ok());
  const Minibatch& mb = learner.last;
  ASSERT_EQ(mb.latent.size(), 2u);
  EXPECT_FALSE(mb.latent[1].defined());
  ASSERT_EQ(mb.latent[0].sizes(), torch::IntArrayRef({4, 1}));
  for (int64_t r = 0; r < 4; ++r) {
    const bool copy1 = mb.obs[0][r][1].item<float>() == 1.0f;
    EXPECT_FLOAT_EQ(mb.latent[0][r][0].item<float>(), copy1 ? 1.0f : 2.0f);
  }
  // Without a context (a direct call) every copy starts an episode.
  learner.Act({obs.data(), obs.data()}, 2, false, &discrete, &continuous);
  EXPECT_EQ(learner.streams.back(), ActingStream::kProbe);
}

// Candidates with values (0, 1, 3) at scale 0.5: weights
// softmax(0, 2, 6) = (e^0, e^2, e^6) / (1 + e^2 + e^6); the loss is
// -sum_k w_k log q_k, and only log q gets a gradient (-w_k / B).
TEST(ClosedFormFitLossTest, ByHand) {
  const torch::Tensor soft = torch::tensor({0.0f, 1.0f, 3.0f}).view({1, 3});
  torch::Tensor log_rho =
      torch::tensor({-1.0f, -2.0f, -0.5f}).view({1, 3}).requires_grad_(true);
  const double z = 1 + std::exp(2.0) + std::exp(6.0);
  const double w[3] = {1 / z, std::exp(2.0) / z, std::exp(6.0) / z};
  const torch::Tensor loss = ClosedFormFitLoss(soft, log_rho, 0.5);
  EXPECT_NEAR(loss.item<float>(), w[0] * 1 + w[1] * 2 + w[2] * 0.5, 1e-5);
  loss.backward();
  for (int k = 0; k < 3; ++k) {
    EXPECT_NEAR(log_rho.grad()[0][k].item<float>(), -w[k], 1e-6);
  }
  // A prior P adds log P to the logits: P = (1/2, 1/4, 1/4) at scale 1.
  const torch::Tensor log_prior =
      torch::tensor({0.5f, 0.25f, 0.25f}).log().view({1, 3});
  const double z1 = 0.5 + 0.25 * std::exp(1.0) + 0.25 * std::exp(3.0);
  EXPECT_NEAR(
      ClosedFormFitLoss(soft, log_rho.detach(), 1.0, log_prior).item<float>(),
      (0.5 * 1 + 0.25 * std::exp(1.0) * 2 + 0.25 * std::exp(3.0) * 0.5) / z1,
      1e-5);
}

TEST(UniformCandidatesTest, StatesRepeatedAndActionsInsideTheBox) {
  at::Generator generator = at::detail::createCPUGenerator(7);
  const torch::Tensor s = torch::arange(50, torch::kFloat).view({25, 2});
  const UniformCandidates c = DrawUniformCandidates(s, 80, 2, generator);
  ASSERT_EQ(c.states.sizes(), (std::vector<int64_t>{2000, 2}));
  ASSERT_EQ(c.actions.sizes(), (std::vector<int64_t>{2000, 2}));
  EXPECT_TRUE(c.states.view({25, 80, 2}).select(1, 79).equal(s));
  EXPECT_TRUE(c.states.view({25, 80, 2}).select(1, 0).equal(s));
  EXPECT_LT(c.actions.abs().max().item<float>(), 1.0f);
  EXPECT_NEAR(c.actions.mean().item<float>(), 0.0, 0.05);
  EXPECT_GT(c.actions.max().item<float>(), 0.99f);
  EXPECT_LT(c.actions.min().item<float>(), -0.99f);
}

}  // namespace
}  // namespace deep
}  // namespace marl
