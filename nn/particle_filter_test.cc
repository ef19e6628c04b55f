#include "nn/particle_filter.h"

#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "nn/torch_setup.h"

namespace marl {
namespace nn {
namespace {

double Uniform(std::mt19937_64& rng) {
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

// An index drawn from the probabilities p[0..n).
int64_t Draw(const double* p, int64_t n, std::mt19937_64& rng) {
  double u = Uniform(rng);
  for (int64_t i = 0; i + 1 < n; ++i) {
    if (u < p[i]) return i;
    u -= p[i];
  }
  return n - 1;
}

// Ancestor counts per particle: [B, K] int64 -> [B, K] int64.
torch::Tensor Counts(const torch::Tensor& ancestors) {
  return torch::zeros_like(ancestors).scatter_add_(1, ancestors,
                                                   torch::ones_like(ancestors));
}

TEST(ParticleFilterTest, NormalizedWeightsAndLogMeanExpAreStable) {
  const float log3 = std::log(3.0f);
  torch::Tensor lw = torch::tensor(
      {{1e4f, 1e4f + log3}, {-1e4f, -1e4f + log3}, {0.0f, -INFINITY}});
  torch::Tensor w = NormalizedWeights(lw);
  // (1e4 + log 3 is a float with spacing 1e-3.)
  EXPECT_TRUE(torch::allclose(
      w, torch::tensor({{0.25f, 0.75f}, {0.25f, 0.75f}, {1.0f, 0.0f}}), 0.0,
      1e-3))
      << w;
  torch::Tensor lme = LogMeanExp(lw);
  EXPECT_NEAR(lme[0].item<float>(), 1e4f + std::log(2.0f), 1e-2);
  EXPECT_NEAR(lme[1].item<float>(), -1e4f + std::log(2.0f), 1e-2);
  EXPECT_NEAR(lme[2].item<float>(), -std::log(2.0f), 1e-6);
  // -inf entries get zero gradient, not NaN.
  torch::Tensor leaf = lw.clone().requires_grad_(true);
  LogMeanExp(leaf).sum().backward();
  EXPECT_TRUE(torch::isfinite(leaf.grad()).all().item<bool>()) << leaf.grad();
  EXPECT_EQ(leaf.grad()[2][1].item<float>(), 0.0f);
  // A filter whose particles all have no mass: uniform weights, -inf
  // evidence, no NaN.
  torch::Tensor dead = torch::full({1, 4}, -INFINITY);
  EXPECT_TRUE(
      torch::equal(NormalizedWeights(dead), torch::full({1, 4}, 0.25f)));
  EXPECT_EQ(LogMeanExp(dead).item<float>(), -INFINITY);
}

TEST(ParticleFilterTest, SystematicConcentratedWeightsPickOneParticle) {
  torch::Tensor lw = torch::tensor({{-INFINITY, -INFINITY, 0.0f, -INFINITY},
                                    {0.0f, 0.0f, 0.0f, 1e30f},
                                    {-1e4f, -3e4f, -3e4f, -3e4f},
                                    {-2e3f, 0.0f, -2e3f, -2e3f}});
  const torch::Tensor expected =
      torch::tensor({2, 3, 0, 1}, torch::kLong).unsqueeze(1).expand({4, 4});
  std::mt19937_64 rng(1);
  for (int trial = 0; trial < 100; ++trial) {
    torch::Tensor a = SystematicResample(lw, rng);
    ASSERT_TRUE(torch::equal(a, expected)) << a;
    ASSERT_TRUE(torch::equal(MultinomialResample(lw, rng), expected));
  }
}

TEST(ParticleFilterTest, SystematicUniformWeightsPickEachParticleOnce) {
  std::mt19937_64 rng(2);
  for (int64_t k : {1, 7, 10, 64, 1000}) {
    // Equal weights at 0, underflowing exp, overflowing exp, and no mass.
    torch::Tensor lw =
        torch::stack({torch::zeros({k}), torch::full({k}, -1e4),
                      torch::full({k}, 100.0), torch::full({k}, -INFINITY)});
    const torch::Tensor identity =
        torch::arange(k, torch::kLong).expand({4, k});
    for (int trial = 0; trial < 200; ++trial) {
      torch::Tensor a = SystematicResample(lw, rng);
      ASSERT_TRUE(torch::equal(a, identity)) << "K = " << k << "\n" << a;
    }
  }
}

TEST(ParticleFilterTest, SystematicCountsAreFloorOrCeilOfExpected) {
  std::mt19937_64 rng(3);
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(3);
  for (int64_t k : {2, 10, 37}) {
    torch::Tensor lw = 3.0f * torch::randn({500, k}, gen);
    // Some particles with no mass.
    lw.masked_fill_(torch::rand({500, k}, gen) < 0.2, -INFINITY);
    torch::Tensor a = SystematicResample(lw, rng);
    ASSERT_EQ(a.sizes(), torch::IntArrayRef({500, k}));
    // Rows are sorted, as systematic resampling walks the cumulative weights.
    EXPECT_TRUE((a.diff(1, 1) >= 0).all().item<bool>());
    // (Rows with every particle at -inf count as uniform.)
    torch::Tensor expected =
        static_cast<double>(k) * NormalizedWeights(lw.to(torch::kDouble));
    torch::Tensor counts = Counts(a).to(torch::kDouble);
    EXPECT_TRUE((counts >= expected.floor()).all().item<bool>());
    EXPECT_TRUE((counts <= expected.ceil()).all().item<bool>());
  }
  // Unbiased: the mean count over many offsets is K w.
  torch::Tensor row = torch::tensor({0.3f, -1.0f, 2.0f, 0.0f, -INFINITY});
  torch::Tensor many = row.expand({20000, 5}).contiguous();
  torch::Tensor expected = 5.0 * torch::softmax(row.to(torch::kDouble), -1);
  torch::Tensor systematic =
      Counts(SystematicResample(many, rng)).to(torch::kDouble).mean(0);
  torch::Tensor multinomial =
      Counts(MultinomialResample(many, rng)).to(torch::kDouble).mean(0);
  EXPECT_TRUE(torch::allclose(systematic, expected, 0.0, 0.02)) << systematic;
  EXPECT_TRUE(torch::allclose(multinomial, expected, 0.0, 0.04)) << multinomial;
  EXPECT_EQ(systematic[4].item<double>(), 0.0);
  EXPECT_EQ(multinomial[4].item<double>(), 0.0);
}

TEST(ParticleFilterTest, GatherParticlesCopiesParentsAndRoutesGradients) {
  torch::Tensor x =
      torch::arange(12, torch::kFloat).view({2, 3, 2}).requires_grad_(true);
  torch::Tensor ancestors = torch::tensor({{2, 2, 0}, {1, 0, 1}});
  torch::Tensor y = GatherParticles(x, ancestors);
  EXPECT_TRUE(torch::equal(
      y, torch::tensor({{{4.0f, 5.0f}, {4.0f, 5.0f}, {0.0f, 1.0f}},
                        {{8.0f, 9.0f}, {6.0f, 7.0f}, {8.0f, 9.0f}}})))
      << y;
  y.sum().backward();
  EXPECT_TRUE(torch::equal(
      x.grad(), torch::tensor({{{1.0f, 1.0f}, {0.0f, 0.0f}, {2.0f, 2.0f}},
                               {{1.0f, 1.0f}, {2.0f, 2.0f}, {0.0f, 0.0f}}})));
  // Any trailing shape and dtype: discrete states [B, K, 1].
  torch::Tensor states = torch::tensor({{{7}, {8}, {9}}, {{1}, {2}, {3}}});
  EXPECT_TRUE(torch::equal(GatherParticles(states, ancestors),
                           torch::tensor({{{9}, {9}, {7}}, {{2}, {1}, {2}}})));
}

// A hidden Markov model with 3 states and 3 symbols.
struct Hmm {
  static constexpr int64_t kStates = 3;
  static constexpr int64_t kSymbols = 3;
  std::array<double, kStates> initial = {1.0 / 3, 1.0 / 3, 1.0 / 3};
  std::array<std::array<double, kStates>, kStates> transition = {
      {{0.8, 0.15, 0.05}, {0.1, 0.7, 0.2}, {0.25, 0.05, 0.7}}};
  std::array<std::array<double, kSymbols>, kStates> emission = {
      {{0.7, 0.2, 0.1}, {0.15, 0.7, 0.15}, {0.2, 0.2, 0.6}}};
};

struct HmmData {
  std::vector<std::vector<int64_t>> observations;  // [N][T]
  std::vector<std::vector<std::array<double, Hmm::kStates>>> posterior;
  std::vector<double> log_likelihood;  // [N]
};

// N sequences of length T, with the forward algorithm's filtering posteriors
// P(s_t | o_1:t) and log p(o_1:T).
HmmData SampleHmm(const Hmm& hmm, int64_t n, int64_t t_max, uint64_t seed) {
  std::mt19937_64 rng(seed);
  HmmData data;
  for (int64_t i = 0; i < n; ++i) {
    std::vector<int64_t> obs;
    std::vector<std::array<double, Hmm::kStates>> post;
    double log_lik = 0.0;
    int64_t s = Draw(hmm.initial.data(), Hmm::kStates, rng);
    std::array<double, Hmm::kStates> alpha = hmm.initial;
    for (int64_t t = 0; t < t_max; ++t) {
      if (t > 0) {
        s = Draw(hmm.transition[s].data(), Hmm::kStates, rng);
        std::array<double, Hmm::kStates> predicted{};
        for (int64_t j = 0; j < Hmm::kStates; ++j) {
          for (int64_t k = 0; k < Hmm::kStates; ++k) {
            predicted[k] += alpha[j] * hmm.transition[j][k];
          }
        }
        alpha = predicted;
      }
      const int64_t o = Draw(hmm.emission[s].data(), Hmm::kSymbols, rng);
      double evidence = 0.0;
      for (int64_t j = 0; j < Hmm::kStates; ++j) {
        alpha[j] *= hmm.emission[j][o];
        evidence += alpha[j];
      }
      for (double& a : alpha) a /= evidence;
      log_lik += std::log(evidence);
      obs.push_back(o);
      post.push_back(alpha);
    }
    data.observations.push_back(obs);
    data.posterior.push_back(post);
    data.log_likelihood.push_back(log_lik);
  }
  return data;
}

struct FilterError {
  double posterior_error;      // mean |P^(s_t = j) - P(s_t = j)|
  double log_likelihood_bias;  // mean of sum_t ELBO_t - log p(o_1:T)
};

// A bootstrap particle filter from the generic pieces: particles are states
// [N, K, 1], proposed from the transition, weighted by the emission, with
// systematic resampling at every step after the first.
FilterError RunBootstrapFilter(const Hmm& hmm, const HmmData& data, int64_t k,
                               uint64_t seed) {
  std::mt19937_64 rng(seed);
  const int64_t n = static_cast<int64_t>(data.observations.size());
  const int64_t t_max = static_cast<int64_t>(data.observations[0].size());
  torch::Tensor log_emission = torch::empty({Hmm::kStates, Hmm::kSymbols});
  for (int64_t j = 0; j < Hmm::kStates; ++j) {
    for (int64_t o = 0; o < Hmm::kSymbols; ++o) {
      log_emission[j][o] = std::log(hmm.emission[j][o]);
    }
  }
  torch::Tensor states = torch::empty({n, k, 1}, torch::kLong);
  torch::Tensor log_weight;
  torch::Tensor elbo_sum = torch::zeros({n}, torch::kDouble);
  double error = 0.0;
  for (int64_t t = 0; t < t_max; ++t) {
    if (t > 0) {
      states = GatherParticles(states, SystematicResample(log_weight, rng))
                   .contiguous();
    }
    int64_t* s = states.data_ptr<int64_t>();
    for (int64_t i = 0; i < n * k; ++i) {
      s[i] = t == 0 ? Draw(hmm.initial.data(), Hmm::kStates, rng)
                    : Draw(hmm.transition[s[i]].data(), Hmm::kStates, rng);
    }
    std::vector<int64_t> obs(n);
    for (int64_t i = 0; i < n; ++i) obs[i] = data.observations[i][t];
    // log p(o_t | s) of each particle: [N, S] gathered at the states.
    log_weight = log_emission.index_select(1, torch::tensor(obs))
                     .t()
                     .gather(1, states.squeeze(-1));
    elbo_sum += LogMeanExp(log_weight).to(torch::kDouble);
    torch::Tensor estimate = (NormalizedWeights(log_weight).unsqueeze(-1) *
                              torch::one_hot(states.squeeze(-1), Hmm::kStates))
                                 .sum(1)
                                 .to(torch::kDouble);
    auto e = estimate.accessor<double, 2>();
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t j = 0; j < Hmm::kStates; ++j) {
        error += std::abs(e[i][j] - data.posterior[i][t][j]);
      }
    }
  }
  double bias = 0.0;
  auto elbo = elbo_sum.accessor<double, 1>();
  for (int64_t i = 0; i < n; ++i) {
    bias += elbo[i] - data.log_likelihood[i];
  }
  return {error / static_cast<double>(n * t_max * Hmm::kStates),
          bias / static_cast<double>(n)};
}

TEST(ParticleFilterTest, BootstrapFilterConvergesToExactHmmFilter) {
  UseOneThreadPerProcess();
  const Hmm hmm;
  const HmmData data = SampleHmm(hmm, /*n=*/200, /*t_max=*/10, /*seed=*/11);
  std::vector<FilterError> errors;
  for (int64_t k : {1, 3, 30, 1000}) {
    errors.push_back(RunBootstrapFilter(hmm, data, k, /*seed=*/100 + k));
    std::printf("K = %4ld: posterior error %.5f, log-likelihood bias %.5f\n",
                static_cast<long>(k), errors.back().posterior_error,
                errors.back().log_likelihood_bias);
  }
  // Measured (30 data and filter seeds alike): posterior errors 0.42-0.44,
  // 0.21-0.24, 0.052-0.056, 0.0086-0.0094 for K = 1, 3, 30, 1000; this seed
  // 0.435, 0.226, 0.052, 0.0089. The error falls about as 1 / sqrt(K).
  EXPECT_LT(errors[1].posterior_error, errors[0].posterior_error);
  EXPECT_LT(errors[2].posterior_error, 0.5 * errors[1].posterior_error);
  EXPECT_LT(errors[3].posterior_error, 0.5 * errors[2].posterior_error);
  EXPECT_LT(errors[3].posterior_error, 0.02);
  // Sum of ELBO increments minus log p(o_1:T), measured: -2.3..-2.9,
  // -0.7..-1.3, -0.03..-0.15, -0.012..+0.006; this seed -2.78, -1.10,
  // -0.025, -0.002. A lower bound on average (Jensen) that tightens with K.
  EXPECT_LT(errors[0].log_likelihood_bias, -1.0);
  EXPECT_LT(errors[1].log_likelihood_bias, -0.3);
  EXPECT_LT(errors[0].log_likelihood_bias, errors[1].log_likelihood_bias);
  EXPECT_LT(errors[1].log_likelihood_bias, errors[2].log_likelihood_bias);
  EXPECT_LT(std::abs(errors[3].log_likelihood_bias), 0.05);
}

ParticleFilterOptions SmallOptions() {
  ParticleFilterOptions o;
  o.particles = 4;
  o.latent_size = 2;
  o.hidden_size = 5;
  o.condition_size = 2;
  o.observation_size = 3;
  o.hidden = {8};
  return o;
}

TEST(ParticleFilterTest, ModelStepShapesExtraTermsAndResets) {
  at::Generator init = at::make_generator<at::CPUGeneratorImpl>(4);
  ParticleFilterModel model(SmallOptions(), init);
  std::mt19937_64 rng(4);
  torch::Tensor c = torch::randn({3, 2}, init);
  torch::Tensor o = torch::randn({3, 3}, init);
  ParticleBelief initial = model->Initial(3);
  EXPECT_EQ(initial.latent.sizes(), torch::IntArrayRef({3, 4, 2}));
  EXPECT_EQ(initial.hidden.sizes(), torch::IntArrayRef({3, 4, 5}));
  EXPECT_TRUE(torch::equal(initial.log_weight, torch::zeros({3, 4})));

  ParticleStep first = model->Step(initial, c, o, rng, /*resample=*/false);
  EXPECT_EQ(first.elbo.sizes(), torch::IntArrayRef({3}));
  EXPECT_TRUE(torch::allclose(first.elbo, LogMeanExp(first.belief.log_weight)));

  // A caller's own terms add to the log-weights and the ELBO.
  ParticleProposal proposal = model->Propose(first.belief, c, o, rng);
  EXPECT_EQ(proposal.ancestors.sizes(), torch::IntArrayRef({3, 4}));
  EXPECT_TRUE(
      torch::equal(proposal.prev_hidden,
                   GatherParticles(first.belief.hidden, proposal.ancestors)));
  torch::Tensor extra = torch::randn({3, 4}, init);
  ParticleStep with = model->Finish(proposal, c, o, extra);
  ParticleStep without = model->Finish(proposal, c, o);
  EXPECT_TRUE(torch::allclose(with.belief.log_weight,
                              without.belief.log_weight + extra));
  EXPECT_TRUE(torch::allclose(
      without.belief.log_weight,
      proposal.log_prior - proposal.log_proposal + proposal.log_emission));
  EXPECT_TRUE(torch::allclose(with.elbo, LogMeanExp(with.belief.log_weight)));
  EXPECT_TRUE(torch::equal(with.belief.hidden, without.belief.hidden));
  EXPECT_TRUE(
      torch::equal(model->Features(with.belief),
                   torch::cat({with.belief.latent, with.belief.hidden}, -1)));

  // Without resampling, the weights carry over and the increment is
  // log sum_k W_{t-1}^k exp(increment^k).
  ParticleProposal kept = model->Propose(with.belief, c, o, rng, false);
  EXPECT_TRUE(torch::equal(kept.ancestors,
                           torch::arange(4, torch::kLong).expand({3, 4})));
  ParticleStep next = model->Finish(kept, c, o);
  EXPECT_TRUE(torch::allclose(next.elbo,
                              torch::logsumexp(next.belief.log_weight, -1) -
                                  torch::logsumexp(with.belief.log_weight, -1),
                              1e-4, 1e-4));

  ParticleBelief reset =
      model->ResetWhere(with.belief, torch::tensor({false, true, false}));
  EXPECT_TRUE(torch::equal(reset.hidden[1], torch::zeros({4, 5})));
  EXPECT_TRUE(torch::equal(reset.latent[1], torch::zeros({4, 2})));
  EXPECT_TRUE(torch::equal(reset.log_weight[1], torch::zeros({4})));
  for (int64_t row : {0, 2}) {
    EXPECT_TRUE(torch::equal(reset.hidden[row], with.belief.hidden[row]));
    EXPECT_TRUE(torch::equal(reset.latent[row], with.belief.latent[row]));
    EXPECT_TRUE(
        torch::equal(reset.log_weight[row], with.belief.log_weight[row]));
  }

  // No condition at all: C = 0 takes [B, 0].
  ParticleFilterOptions unconditioned = SmallOptions();
  unconditioned.condition_size = 0;
  ParticleFilterModel plain(unconditioned, init);
  ParticleStep step =
      plain->Step(plain->Initial(3), torch::zeros({3, 0}), o, rng);
  EXPECT_TRUE(torch::isfinite(step.elbo).all().item<bool>());
}

TEST(ParticleFilterTest, ExtremeInputsStayFinite) {
  at::Generator init = at::make_generator<at::CPUGeneratorImpl>(5);
  ParticleFilterModel model(SmallOptions(), init);
  std::mt19937_64 rng(5);
  ParticleBelief belief = model->Initial(2);
  torch::Tensor elbo = torch::zeros({2});
  for (int t = 0; t < 3; ++t) {
    torch::Tensor c = torch::tensor({{1e3f, -1e3f}, {0.0f, 0.0f}});
    torch::Tensor o =
        torch::tensor({{1e6f, -1e6f, 0.0f}, {1e-6f, 0.0f, -1e-6f}});
    ParticleStep step = model->Step(belief, c, o, rng, t > 0);
    ASSERT_TRUE(torch::isfinite(step.belief.log_weight).all().item<bool>())
        << step.belief.log_weight;
    belief = step.belief;
    elbo = elbo + step.elbo;
  }
  ASSERT_TRUE(torch::isfinite(elbo).all().item<bool>()) << elbo;
  (-elbo.mean()).backward();
  for (const torch::Tensor& p : model->parameters()) {
    ASSERT_TRUE(torch::isfinite(p.grad()).all().item<bool>());
  }
}

TEST(ParticleFilterTest, SameSeedGivesSameBeliefs) {
  at::Generator init_a = at::make_generator<at::CPUGeneratorImpl>(6);
  at::Generator init_b = at::make_generator<at::CPUGeneratorImpl>(6);
  ParticleFilterModel a(SmallOptions(), init_a);
  ParticleFilterModel b(SmallOptions(), init_b);
  at::Generator data = at::make_generator<at::CPUGeneratorImpl>(7);
  std::mt19937_64 rng_a(8), rng_b(8), rng_other(9);
  ParticleBelief belief_a = a->Initial(3);
  ParticleBelief belief_b = b->Initial(3);
  ParticleBelief belief_other = a->Initial(3);
  for (int t = 0; t < 5; ++t) {
    torch::Tensor c = torch::randn({3, 2}, data);
    torch::Tensor o = torch::randn({3, 3}, data);
    ParticleStep step_a = a->Step(belief_a, c, o, rng_a, t > 0);
    // Step is Propose then Finish, draw for draw.
    ParticleStep step_b =
        b->Finish(b->Propose(belief_b, c, o, rng_b, t > 0), c, o);
    ParticleStep other = a->Step(belief_other, c, o, rng_other, t > 0);
    ASSERT_TRUE(torch::equal(step_a.belief.latent, step_b.belief.latent));
    ASSERT_TRUE(torch::equal(step_a.belief.hidden, step_b.belief.hidden));
    ASSERT_TRUE(
        torch::equal(step_a.belief.log_weight, step_b.belief.log_weight));
    ASSERT_TRUE(torch::equal(step_a.elbo, step_b.elbo));
    ASSERT_FALSE(torch::equal(step_a.belief.latent, other.belief.latent));
    belief_a = step_a.belief;
    belief_b = step_b.belief;
    belief_other = other.belief;
  }
}

// Sequences of x_t = 0.9 x_{t-1} + 0.5 a_{t-1} + 0.5 n, o_t = x_t + 0.5 m
// (n, m ~ N(0, 1), x_0 = 0, actions a = +-1 at random): a 1-D linear
// Gaussian state-space model whose previous action is the condition.
struct Lgssm {
  torch::Tensor actions;       // [T, B, 1]
  torch::Tensor observations;  // [T, B, 1]
  double log_likelihood;       // Kalman filter's, mean per step and sequence
};

Lgssm SampleLgssm(int64_t batch, int64_t t_max, at::Generator& gen) {
  const double a = 0.9, b = 0.5, q = 0.25, r = 0.25;
  Lgssm data;
  data.actions =
      2.0f * (torch::rand({t_max, batch, 1}, gen) < 0.5).to(torch::kFloat) -
      1.0f;
  torch::Tensor x = torch::zeros({batch, 1});
  std::vector<torch::Tensor> obs;
  for (int64_t t = 0; t < t_max; ++t) {
    x = a * x + b * data.actions[t] +
        std::sqrt(q) * torch::randn({batch, 1}, gen);
    obs.push_back(x + std::sqrt(r) * torch::randn({batch, 1}, gen));
  }
  data.observations = torch::stack(obs);
  // The exact log p(o_1:T) by the Kalman filter.
  auto act = data.actions.accessor<float, 3>();
  auto o = data.observations.accessor<float, 3>();
  double total = 0.0;
  for (int64_t i = 0; i < batch; ++i) {
    double mean = 0.0, var = 0.0;
    for (int64_t t = 0; t < t_max; ++t) {
      const double pred_mean = a * mean + b * act[t][i][0];
      const double pred_var = a * a * var + q;
      const double s = pred_var + r;
      const double err = o[t][i][0] - pred_mean;
      total += -0.5 * (std::log(2.0 * M_PI * s) + err * err / s);
      const double gain = pred_var / s;
      mean = pred_mean + gain * err;
      var = (1.0 - gain) * pred_var;
    }
  }
  data.log_likelihood = total / static_cast<double>(batch * t_max);
  return data;
}

// The Monte Carlo ELBO: the ELBO increments' mean over time and batch.
torch::Tensor MeanElbo(ParticleFilterModel& model, const Lgssm& data,
                       std::mt19937_64& rng) {
  const int64_t t_max = data.observations.size(0);
  ParticleBelief belief = model->Initial(data.observations.size(1));
  torch::Tensor total = torch::zeros({});
  for (int64_t t = 0; t < t_max; ++t) {
    ParticleStep step =
        model->Step(belief, data.actions[t], data.observations[t], rng, t > 0);
    total = total + step.elbo.mean();
    belief = step.belief;
  }
  return total / static_cast<double>(t_max);
}

TEST(ParticleFilterTest, TrainingRaisesTheElbo) {
  UseOneThreadPerProcess();
  ParticleFilterOptions options;
  options.particles = 10;
  options.latent_size = 2;
  options.hidden_size = 16;
  options.condition_size = 1;
  options.observation_size = 1;
  options.hidden = {32};
  at::Generator init = at::make_generator<at::CPUGeneratorImpl>(10);
  ParticleFilterModel model(options, init);
  at::Generator data_gen = at::make_generator<at::CPUGeneratorImpl>(11);
  const Lgssm held_out = SampleLgssm(500, 10, data_gen);
  auto evaluate = [&] {
    torch::NoGradGuard no_grad;
    std::mt19937_64 rng(12);
    return MeanElbo(model, held_out, rng).item<double>();
  };
  const double before = evaluate();
  torch::optim::Adam adam(model->parameters(), torch::optim::AdamOptions(3e-3));
  std::mt19937_64 rng(13);
  for (int iteration = 0; iteration < 300; ++iteration) {
    const Lgssm batch = SampleLgssm(32, 10, data_gen);
    torch::Tensor loss = -MeanElbo(model, batch, rng);
    adam.zero_grad();
    loss.backward();
    adam.step();
  }
  const double after = evaluate();
  std::printf("held-out ELBO per step: %.4f before, %.4f after; exact %.4f\n",
              before, after, held_out.log_likelihood);
  // Measured over 8 seeds of weights, data and particles: -1.84..-1.98
  // before, after 0.005-0.008 below the exact log-likelihood; this seed
  // -1.898 -> -1.171, exact -1.167.
  ASSERT_TRUE(std::isfinite(after));
  EXPECT_GT(after - before, 0.3);
  // Near the exact log-likelihood, and below it: a lower bound.
  EXPECT_LT(after, held_out.log_likelihood + 0.02);
  EXPECT_GT(after, held_out.log_likelihood - 0.1);
}

}  // namespace
}  // namespace nn
}  // namespace marl
