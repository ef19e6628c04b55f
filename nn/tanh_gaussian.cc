#include "nn/tanh_gaussian.h"

#include <torch/torch.h>

#include <cmath>

namespace marl {
namespace nn {
namespace {

const double kHalfLog2Pi = 0.5 * std::log(2.0 * M_PI);

}  // namespace

torch::Tensor LogOneMinusTanhSquared(const torch::Tensor& u) {
  // 1 - tanh(u)^2 = 4 / (e^u + e^-u)^2 = 4 e^{-2u} / (1 + e^{-2u})^2, so its
  // log is 2 (log 2 - u - log(1 + e^{-2u})), finite for every u.
  return 2.0 * (std::log(2.0) - u - torch::softplus(-2.0 * u));
}

torch::Tensor TanhGaussianLogProb(const torch::Tensor& mean,
                                  const torch::Tensor& log_std,
                                  const torch::Tensor& pre_tanh) {
  torch::Tensor z = (pre_tanh - mean) * torch::exp(-log_std);
  torch::Tensor gaussian = -0.5 * z.pow(2) - log_std - kHalfLog2Pi;
  return (gaussian - LogOneMinusTanhSquared(pre_tanh)).sum(-1);
}

TanhGaussianSample TanhGaussianFromNoise(const torch::Tensor& mean,
                                         const torch::Tensor& log_std,
                                         const torch::Tensor& noise) {
  TanhGaussianSample sample;
  sample.pre_tanh = mean + torch::exp(log_std) * noise;
  sample.action = torch::tanh(sample.pre_tanh);
  // (u - mean) / std is the noise itself; using it avoids a division.
  torch::Tensor gaussian = -0.5 * noise.pow(2) - log_std - kHalfLog2Pi;
  sample.log_prob =
      (gaussian - LogOneMinusTanhSquared(sample.pre_tanh)).sum(-1);
  return sample;
}

torch::Tensor AtanhClamped(const torch::Tensor& y, double eps) {
  return torch::atanh(y.clamp(-1.0 + eps, 1.0 - eps));
}

TanhGaussianPolicyImpl::TanhGaussianPolicyImpl(
    const TanhGaussianPolicyOptions& options, at::Generator& init)
    : options_(options) {
  TORCH_CHECK(options_.log_std_min <= options_.log_std_max,
              "TanhGaussianPolicy: log_std_min > log_std_max");
  reset();
  InitializeMlp(mlp_, init);
}

void TanhGaussianPolicyImpl::reset() {
  mlp_ = register_module(
      "mlp",
      MakeMlpLayers(options_.obs_dim, options_.hidden, 2 * options_.action_dim,
                    options_.activation, Activation::kNone));
}

std::pair<torch::Tensor, torch::Tensor> TanhGaussianPolicyImpl::forward(
    const torch::Tensor& obs) {
  torch::Tensor out = mlp_->forward(obs);
  std::vector<torch::Tensor> halves = out.chunk(2, -1);
  return {halves[0],
          halves[1].clamp(options_.log_std_min, options_.log_std_max)};
}

TanhGaussianSample TanhGaussianPolicyImpl::rsample(
    const torch::Tensor& obs, c10::optional<at::Generator> generator) {
  auto [mean, log_std] = forward(obs);
  torch::Tensor noise = torch::randn(mean.sizes(), generator, mean.options());
  return TanhGaussianFromNoise(mean, log_std, noise);
}

torch::Tensor TanhGaussianPolicyImpl::deterministic(const torch::Tensor& obs) {
  return torch::tanh(forward(obs).first);
}

torch::Tensor TanhGaussianPolicyImpl::log_prob(const torch::Tensor& obs,
                                               const torch::Tensor& action) {
  auto [mean, log_std] = forward(obs);
  return TanhGaussianLogProb(mean, log_std, AtanhClamped(action));
}

torch::Tensor ScaleToBox(const torch::Tensor& y, const torch::Tensor& low,
                         const torch::Tensor& high) {
  return low + 0.5 * (y + 1.0) * (high - low);
}

torch::Tensor UnscaleFromBox(const torch::Tensor& action,
                             const torch::Tensor& low,
                             const torch::Tensor& high) {
  return 2.0 * (action - low) / (high - low) - 1.0;
}

torch::Tensor BoxLogAbsDet(const torch::Tensor& low,
                           const torch::Tensor& high) {
  return torch::log(0.5 * (high - low)).sum();
}

}  // namespace nn
}  // namespace marl
