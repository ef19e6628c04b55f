#ifndef MARL_NN_PARTICLE_FILTER_H_
#define MARL_NN_PARTICLE_FILTER_H_

// Particle beliefs for partially observed tasks (thesis ch. 5): the
// variational sequential Monte Carlo of DVRL (Igl et al. 2018, "Deep
// Variational Reinforcement Learning for POMDPs") and VSMC (Naesseth et al.
// 2018, "Variational Sequential Monte Carlo"; Maddison et al. 2017 and Le et
// al. 2018 give the same objective).
//
// A belief is K weighted particles per filter (latent z, recurrent state h,
// log-weight w). One step, for observation o_t after conditioning c_{t-1}
// (the previous action):
//   u^k ~ systematic resampling from the normalised weights,
//   z^k ~ q(z | h^{u^k}, c, o_t)                    (reparameterised),
//   w^k = log p(z^k | h^{u^k}, c) - log q(z^k | h^{u^k}, c, o_t)
//         + log p(o_t | h^{u^k}, z^k, c)  [+ a caller's own terms],
//   h^k = GRU([z^k, c, o_t], h^{u^k}).
// logsumexp_k(w) - log K estimates log p(o_t | o_<t); summed over time it is
// the log of an unbiased estimate of p(o_1:T), so its expectation is a lower
// bound (Jensen) that tightens as K grows: the ELBO the model is trained on.
//
// Ancestor indices are sampled and then treated as constants: gradients flow
// through the reparameterised latents and the weights, never through the
// discrete resampling. Its score-function term would have variance growing
// with the sequence length; VSMC and DVRL both drop it, accepting a small
// bias for usable gradients.
//
// The generic functions work on any particle tensors [B, K, ...], so an agent
// can run its own filter (over discrete latents, say) with them; the model
// adds learned Gaussian transitions and emissions. Every random draw comes
// from the caller's std::mt19937_64: the same seed gives the same beliefs.

#include <ATen/core/Generator.h>
#include <torch/nn.h>

#include <cstdint>
#include <random>
#include <utility>
#include <vector>

#include "nn/mlp.h"

namespace marl {
namespace nn {

// K particles for each of B filters. Log-weights are finite or -inf (a
// particle with no mass); NaN and +inf are errors.
struct ParticleBelief {
  torch::Tensor latent;      // [B, K, Z]
  torch::Tensor hidden;      // [B, K, H]
  torch::Tensor log_weight;  // [B, K], unnormalised
};

// softmax over K of log_weight [B, K]. A row with no finite entry (every
// particle -inf) gives uniform weights rather than NaN.
torch::Tensor NormalizedWeights(const torch::Tensor& log_weight);

// log(mean_k exp(log_weight)) -> [B]: logsumexp - log K, stable for huge
// magnitudes; -inf for a row of -inf.
torch::Tensor LogMeanExp(const torch::Tensor& log_weight);

// Systematic resampling: one offset u ~ U(0, 1) per filter from `rng`,
// particle k receives the positions (i + u) / K that fall in its slice of the
// normalised cumulative weights, so it is picked floor(K w_k) or
// ceil(K w_k) times. Returns ancestor indices [B, K] int64 (sorted in each
// row). Computed in double after subtracting each row's max, so weights that
// all underflow in exp still resample correctly; a row of -inf counts as
// uniform. Uniform weights give each particle exactly once (ancestors
// 0..K-1), so resampling a freshly reset filter changes nothing.
torch::Tensor SystematicResample(const torch::Tensor& log_weight,
                                 std::mt19937_64& rng);

// K independent draws per filter from the normalised weights (higher variance
// than systematic; for comparisons). [B, K] int64.
torch::Tensor MultinomialResample(const torch::Tensor& log_weight,
                                  std::mt19937_64& rng);

// x[b, ancestors[b, k], ...] -> [B, K, ...], any dtype. Differentiable in x;
// the ancestors are constants.
torch::Tensor GatherParticles(const torch::Tensor& x,
                              const torch::Tensor& ancestors);

struct ParticleFilterOptions {
  int64_t particles = 10;        // K (DVRL's default)
  int64_t latent_size = 0;       // Z
  int64_t hidden_size = 0;       // H, the GRU's state
  int64_t condition_size = 0;    // C (the previous action, or 0 for none)
  int64_t observation_size = 0;  // O
  // Hidden layers of the prior, proposal and emission MLPs.
  std::vector<int64_t> hidden = {64};
  Activation activation = Activation::kRelu;
  // Every log-std (prior, proposal, emission) is clamped to [min, max] so
  // that log-densities stay finite: std in [0.0067, 7.4] by default.
  double log_std_min = -5.0;
  double log_std_max = 2.0;
};

// The first half of a step: the resampled ancestors and the new latents with
// their log-density terms. A caller adds its own per-particle terms (the
// log-probability of the actions it saw, under each particle) in Finish.
struct ParticleProposal {
  torch::Tensor ancestors;    // [B, K] int64
  torch::Tensor prev_hidden;  // [B, K, H]: h_{t-1} of each particle's parent
  // [B, K]: the parents' log-weights carried into this step; 0 (uniform)
  // after resampling.
  torch::Tensor prev_log_weight;
  torch::Tensor latent;        // [B, K, Z]: z_t, reparameterised
  torch::Tensor log_prior;     // [B, K]: log p(z_t | h_{t-1}, c)
  torch::Tensor log_proposal;  // [B, K]: log q(z_t | h_{t-1}, c, o_t)
  torch::Tensor log_emission;  // [B, K]: log p(o_t | h_{t-1}, z_t, c)
};

struct ParticleStep {
  ParticleBelief belief;
  // [B]: log p^(o_t | o_<t), the ELBO increment. Their mean over batch and
  // time is the Monte Carlo ELBO to maximise.
  torch::Tensor elbo;
};

// DVRL's learned filter: Gaussian prior p(z | h, c) and proposal
// q(z | h, c, o) (MLPs giving mean and log-std), a Gaussian emission
// p(o | h, z, c) (an MLP for the mean, a learned log-std per dimension) and a
// GRU cell. Inputs: condition [B, C] (the action before o_t; [B, 0] when
// C = 0) and observation [B, O].
class ParticleFilterModelImpl
    : public torch::nn::Cloneable<ParticleFilterModelImpl> {
 public:
  // Initial weights from `init` (MakeMlp; the GRU cell with LibTorch's
  // default range); the emission log-std starts at 0.
  ParticleFilterModelImpl(const ParticleFilterOptions& options,
                          at::Generator& init);
  void reset() override;

  // Every particle at h = 0, z = 0, log-weight 0 (uniform).
  ParticleBelief Initial(int64_t batch) const;

  // Resamples `prev` and draws the new latents, all randomness from `rng`.
  // resample = false skips resampling: for the first step of an episode,
  // whose weights are uniform anyway. Rows reset by ResetWhere may resample
  // with the others: uniform weights resample to themselves.
  ParticleProposal Propose(const ParticleBelief& prev,
                           const torch::Tensor& condition,
                           const torch::Tensor& observation,
                           std::mt19937_64& rng, bool resample = true);

  // The GRU update and the new log-weights: prev_log_weight + log_prior -
  // log_proposal + log_emission + extra_log_weight ([B, K], or undefined for
  // none). The ELBO increment is logsumexp(new) - logsumexp(prev_log_weight):
  // LogMeanExp(new) after resampling, and still the SMC estimate of
  // log p(o_t | o_<t) when a step kept non-uniform weights unresampled.
  ParticleStep Finish(const ParticleProposal& proposal,
                      const torch::Tensor& condition,
                      const torch::Tensor& observation,
                      const torch::Tensor& extra_log_weight = {});

  // Propose then Finish with no extra terms.
  ParticleStep Step(const ParticleBelief& prev, const torch::Tensor& condition,
                    const torch::Tensor& observation, std::mt19937_64& rng,
                    bool resample = true);

  // Rows b with starts[b] ([B] bool) go back to Initial; the others are kept
  // (and keep their gradients).
  ParticleBelief ResetWhere(const ParticleBelief& belief,
                            const torch::Tensor& starts) const;

  // [z, h] per particle, [B, K, Z + H]: what a policy reads, together with
  // NormalizedWeights(belief.log_weight).
  torch::Tensor Features(const ParticleBelief& belief) const;

  const ParticleFilterOptions& options() const { return options_; }

 private:
  // MLP output [..., 2 * Z] -> {mean, clamped log-std}.
  std::pair<torch::Tensor, torch::Tensor> MeanLogStd(
      const torch::Tensor& out) const;

  ParticleFilterOptions options_;
  torch::nn::Sequential prior_{nullptr};
  torch::nn::Sequential proposal_{nullptr};
  torch::nn::Sequential emission_{nullptr};
  torch::Tensor emission_log_std_;
  torch::nn::GRUCell gru_{nullptr};
};
TORCH_MODULE(ParticleFilterModel);

}  // namespace nn
}  // namespace marl

#endif  // MARL_NN_PARTICLE_FILTER_H_
