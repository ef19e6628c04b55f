#include "nn/particle_filter.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace marl {
namespace nn {
namespace {

const double kHalfLog2Pi = 0.5 * std::log(2.0 * M_PI);

// Rows of log_weight [B, K] with no finite entry become 0 (uniform), so
// softmax and log_softmax give weights instead of NaN.
torch::Tensor UniformIfEmpty(const torch::Tensor& log_weight) {
  torch::Tensor empty = (log_weight == -std::numeric_limits<double>::infinity())
                            .all(-1, /*keepdim=*/true);
  return torch::where(empty, torch::zeros_like(log_weight), log_weight);
}

// U(0, 1) with both ends excluded: 53 random bits, centred in their cell.
double OpenUniform(std::mt19937_64& rng) {
  return (static_cast<double>(rng() >> 11) + 0.5) * 0x1.0p-53;
}

// Normalised cumulative weights of each row of log_weight [B, K], in double,
// row-major [B * K]; the last of each row is exactly 1. Subtracting the row's
// max first keeps the largest weight at exp(0) = 1, so rows whose weights
// all underflow exp still normalise; a row of -inf counts as uniform.
std::vector<double> CumulativeWeights(const torch::Tensor& log_weight) {
  TORCH_CHECK(log_weight.dim() == 2 && log_weight.size(1) > 0,
              "resampling: log_weight must be [B, K] with K > 0");
  torch::Tensor lw =
      log_weight.detach().to(torch::kCPU, torch::kDouble).contiguous();
  TORCH_CHECK(
      !(lw.isnan().any().item<bool>() ||
        (lw == std::numeric_limits<double>::infinity()).any().item<bool>()),
      "resampling: log-weights must be finite or -inf");
  const int64_t rows = lw.size(0);
  const int64_t k = lw.size(1);
  const double* data = lw.data_ptr<double>();
  std::vector<double> cumulative(rows * k);
  for (int64_t b = 0; b < rows; ++b) {
    const double* row = data + b * k;
    double* out = cumulative.data() + b * k;
    const double max = *std::max_element(row, row + k);
    double total = 0.0;
    for (int64_t i = 0; i < k; ++i) {
      total += std::isinf(max) ? 1.0 : std::exp(row[i] - max);
      out[i] = total;
    }
    for (int64_t i = 0; i < k; ++i) out[i] /= total;
    out[k - 1] = 1.0;
  }
  return cumulative;
}

torch::Tensor DiagonalGaussianLogProb(const torch::Tensor& x,
                                      const torch::Tensor& mean,
                                      const torch::Tensor& log_std) {
  torch::Tensor z = (x - mean) * torch::exp(-log_std);
  return (-0.5 * z.pow(2) - log_std - kHalfLog2Pi).sum(-1);
}

// [B, D] -> [B, K, D]: the same input for every particle.
torch::Tensor PerParticle(const torch::Tensor& x, int64_t k) {
  return x.unsqueeze(1).expand({x.size(0), k, x.size(1)});
}

// Ancestors [rows, K] of `log_weight`, each row drawn by
// `draw(cumulative weights of the row, K, its K ancestors)`.
template <typename Draw>
torch::Tensor Resample(const torch::Tensor& log_weight, Draw draw) {
  const std::vector<double> cumulative = CumulativeWeights(log_weight);
  const int64_t rows = log_weight.size(0);
  const int64_t k = log_weight.size(1);
  torch::Tensor ancestors = torch::empty({rows, k}, torch::kLong);
  int64_t* out = ancestors.data_ptr<int64_t>();
  for (int64_t b = 0; b < rows; ++b) {
    draw(cumulative.data() + b * k, k, out + b * k);
  }
  return ancestors.to(log_weight.device());
}

}  // namespace

torch::Tensor NormalizedWeights(const torch::Tensor& log_weight) {
  return torch::softmax(UniformIfEmpty(log_weight), -1);
}

torch::Tensor LogMeanExp(const torch::Tensor& log_weight) {
  return torch::logsumexp(log_weight, -1) -
         std::log(static_cast<double>(log_weight.size(-1)));
}

torch::Tensor SystematicResample(const torch::Tensor& log_weight,
                                 std::mt19937_64& rng) {
  return Resample(log_weight, [&rng](const double* cumulative, int64_t k,
                                     int64_t* out) {
    const double u = OpenUniform(rng);
    // Positions (i + u) / K below cumulative weight c number ceil(K c - u).
    // K c is snapped to an integer when rounding error is all that separates
    // them, so uniform (or other exactly representable) weights give their
    // exact counts for every u.
    int64_t filled = 0;
    for (int64_t i = 0; i < k; ++i) {
      double scaled = static_cast<double>(k) * cumulative[i];
      const double nearest = std::round(scaled);
      if (std::abs(scaled - nearest) < 1e-9) scaled = nearest;
      const int64_t below =
          i + 1 == k ? k
                     : std::clamp<int64_t>(
                           static_cast<int64_t>(std::ceil(scaled - u)), 0, k);
      for (; filled < below; ++filled) out[filled] = i;
    }
  });
}

torch::Tensor MultinomialResample(const torch::Tensor& log_weight,
                                  std::mt19937_64& rng) {
  return Resample(log_weight, [&rng](const double* cumulative, int64_t k,
                                     int64_t* out) {
    // u < 1 = the row's last cumulative weight, so the first entry above u
    // exists and has positive weight.
    for (int64_t i = 0; i < k; ++i) {
      out[i] = std::upper_bound(cumulative, cumulative + k, OpenUniform(rng)) -
               cumulative;
    }
  });
}

torch::Tensor GatherParticles(const torch::Tensor& x,
                              const torch::Tensor& ancestors) {
  TORCH_CHECK(
      x.dim() >= 2 && ancestors.dim() == 2 && x.size(0) == ancestors.size(0),
      "GatherParticles: x [B, K, ...] and ancestors [B, K] expected");
  std::vector<int64_t> view(x.dim(), 1);
  view[0] = ancestors.size(0);
  view[1] = ancestors.size(1);
  std::vector<int64_t> shape = x.sizes().vec();
  shape[1] = ancestors.size(1);
  return x.gather(1, ancestors.to(torch::kLong).view(view).expand(shape));
}

ParticleFilterModelImpl::ParticleFilterModelImpl(
    const ParticleFilterOptions& options, at::Generator& init)
    : options_(options) {
  TORCH_CHECK(options_.particles > 0 && options_.latent_size > 0 &&
                  options_.hidden_size > 0 && options_.condition_size >= 0 &&
                  options_.observation_size > 0,
              "ParticleFilterModel: particles, latent, hidden and observation "
              "sizes must be positive, the condition size non-negative");
  TORCH_CHECK(options_.log_std_min <= options_.log_std_max,
              "ParticleFilterModel: log_std_min > log_std_max");
  reset();
  InitializeMlp(prior_, init);
  InitializeMlp(proposal_, init);
  InitializeMlp(emission_, init);
  // LibTorch's GRUCell default range, drawn from `init` instead of the
  // global generator.
  torch::NoGradGuard no_grad;
  const double bound = LinearInitBound(options_.hidden_size);
  for (torch::Tensor& p : gru_->parameters()) p.uniform_(-bound, bound, init);
}

void ParticleFilterModelImpl::reset() {
  const ParticleFilterOptions& o = options_;
  const int64_t h = o.hidden_size;
  const int64_t z = o.latent_size;
  const int64_t c = o.condition_size;
  const int64_t obs = o.observation_size;
  prior_ = register_module(
      "prior",
      MakeMlpLayers(h + c, o.hidden, 2 * z, o.activation, Activation::kNone));
  proposal_ = register_module(
      "proposal", MakeMlpLayers(h + c + obs, o.hidden, 2 * z, o.activation,
                                Activation::kNone));
  emission_ = register_module(
      "emission",
      MakeMlpLayers(h + z + c, o.hidden, obs, o.activation, Activation::kNone));
  emission_log_std_ =
      register_parameter("emission_log_std", torch::zeros({obs}));
  gru_ = register_module("gru", torch::nn::GRUCell(z + c + obs, h));
}

std::pair<torch::Tensor, torch::Tensor> ParticleFilterModelImpl::MeanLogStd(
    const torch::Tensor& out) const {
  std::vector<torch::Tensor> halves = out.chunk(2, -1);
  return {halves[0],
          halves[1].clamp(options_.log_std_min, options_.log_std_max)};
}

ParticleBelief ParticleFilterModelImpl::Initial(int64_t batch) const {
  const torch::TensorOptions like = emission_log_std_.options();
  const int64_t k = options_.particles;
  return {torch::zeros({batch, k, options_.latent_size}, like),
          torch::zeros({batch, k, options_.hidden_size}, like),
          torch::zeros({batch, k}, like)};
}

ParticleProposal ParticleFilterModelImpl::Propose(
    const ParticleBelief& prev, const torch::Tensor& condition,
    const torch::Tensor& observation, std::mt19937_64& rng, bool resample) {
  const int64_t batch = prev.log_weight.size(0);
  const int64_t k = options_.particles;
  TORCH_CHECK(prev.log_weight.size(1) == k &&
                  condition.sizes() ==
                      torch::IntArrayRef({batch, options_.condition_size}) &&
                  observation.sizes() ==
                      torch::IntArrayRef({batch, options_.observation_size}),
              "ParticleFilterModel: expected condition [B, C] and "
              "observation [B, O] for a belief of B filters of K particles");
  ParticleProposal p;
  if (resample) {
    p.ancestors = SystematicResample(prev.log_weight, rng);
    p.prev_hidden = GatherParticles(prev.hidden, p.ancestors);
    p.prev_log_weight = torch::zeros_like(prev.log_weight);
  } else {
    p.ancestors =
        torch::arange(k, prev.log_weight.options().dtype(torch::kLong))
            .expand({batch, k});
    p.prev_hidden = prev.hidden;
    p.prev_log_weight = prev.log_weight;
  }
  const torch::Tensor c = PerParticle(condition, k);
  const torch::Tensor o = PerParticle(observation, k);
  auto [prior_mean, prior_log_std] =
      MeanLogStd(prior_->forward(torch::cat({p.prev_hidden, c}, -1)));
  auto [q_mean, q_log_std] =
      MeanLogStd(proposal_->forward(torch::cat({p.prev_hidden, c, o}, -1)));
  // The noise comes from a generator seeded by the caller's rng, so one seed
  // fixes both the ancestors and the latents.
  at::Generator noise_gen = at::make_generator<at::CPUGeneratorImpl>(rng());
  const torch::Tensor noise =
      torch::randn(q_mean.sizes(), noise_gen, q_mean.options());
  p.latent = q_mean + torch::exp(q_log_std) * noise;
  p.log_prior = DiagonalGaussianLogProb(p.latent, prior_mean, prior_log_std);
  // (z - mean) / std is the noise itself.
  p.log_proposal = (-0.5 * noise.pow(2) - q_log_std - kHalfLog2Pi).sum(-1);
  const torch::Tensor o_mean =
      emission_->forward(torch::cat({p.prev_hidden, p.latent, c}, -1));
  p.log_emission = DiagonalGaussianLogProb(
      o, o_mean,
      emission_log_std_.clamp(options_.log_std_min, options_.log_std_max)
          .expand_as(o_mean));
  return p;
}

ParticleStep ParticleFilterModelImpl::Finish(
    const ParticleProposal& proposal, const torch::Tensor& condition,
    const torch::Tensor& observation, const torch::Tensor& extra_log_weight) {
  const int64_t batch = proposal.latent.size(0);
  const int64_t k = options_.particles;
  const int64_t h = options_.hidden_size;
  torch::Tensor increment =
      proposal.log_prior - proposal.log_proposal + proposal.log_emission;
  if (extra_log_weight.defined()) increment = increment + extra_log_weight;
  const torch::Tensor input = torch::cat(
      {proposal.latent, PerParticle(condition, k), PerParticle(observation, k)},
      -1);
  ParticleStep step;
  step.belief.latent = proposal.latent;
  step.belief.hidden =
      gru_->forward(input.reshape({batch * k, input.size(-1)}),
                    proposal.prev_hidden.reshape({batch * k, h}))
          .view({batch, k, h});
  step.belief.log_weight = proposal.prev_log_weight + increment;
  // logsumexp(prev + increment) - logsumexp(prev), as one logsumexp over
  // the parents' normalised log-weights.
  step.elbo = torch::logsumexp(
      torch::log_softmax(UniformIfEmpty(proposal.prev_log_weight), -1) +
          increment,
      -1);
  return step;
}

ParticleStep ParticleFilterModelImpl::Step(const ParticleBelief& prev,
                                           const torch::Tensor& condition,
                                           const torch::Tensor& observation,
                                           std::mt19937_64& rng,
                                           bool resample) {
  return Finish(Propose(prev, condition, observation, rng, resample), condition,
                observation);
}

ParticleBelief ParticleFilterModelImpl::ResetWhere(
    const ParticleBelief& belief, const torch::Tensor& starts) const {
  const torch::Tensor rows = starts.to(torch::kBool).view({-1, 1});
  const torch::Tensor rows3 = rows.unsqueeze(-1);
  return {torch::where(rows3, torch::zeros_like(belief.latent), belief.latent),
          torch::where(rows3, torch::zeros_like(belief.hidden), belief.hidden),
          torch::where(rows, torch::zeros_like(belief.log_weight),
                       belief.log_weight)};
}

torch::Tensor ParticleFilterModelImpl::Features(
    const ParticleBelief& belief) const {
  return torch::cat({belief.latent, belief.hidden}, -1);
}

}  // namespace nn
}  // namespace marl
