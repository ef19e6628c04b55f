#include "nn/svgd.h"

#include <torch/torch.h>

#include <cmath>
#include <vector>

namespace marl {
namespace nn {
namespace {

// Median over the last dim, averaging the two middle values for even counts.
torch::Tensor MedianLastDim(const torch::Tensor& v) {
  const int64_t count = v.size(-1);
  torch::Tensor sorted = std::get<0>(v.sort(-1));
  return 0.5 *
         (sorted.select(-1, (count - 1) / 2) + sorted.select(-1, count / 2));
}

}  // namespace

RbfKernelResult RbfKernel(const torch::Tensor& x, const torch::Tensor& y,
                          const RbfKernelOptions& options) {
  TORCH_CHECK(x.dim() >= 2 && y.dim() == x.dim(),
              "RbfKernel: x and y must be [..., n, d] and [..., m, d]");
  TORCH_CHECK(x.size(-1) == y.size(-1), "RbfKernel: particle dims differ");
  const int64_t n = x.size(-2);
  // diff[..., j, i, :] = x_j - y_i.
  torch::Tensor diff = x.unsqueeze(-2) - y.unsqueeze(-3);
  torch::Tensor dist_sq = diff.pow(2).sum(-1);  // [..., n, m]

  RbfKernelResult result;
  if (options.fixed_bandwidth > 0) {
    result.bandwidth = torch::full(dist_sq.sizes().slice(0, dist_sq.dim() - 2),
                                   options.fixed_bandwidth, dist_sq.options());
  } else {
    torch::Tensor flat = dist_sq.detach().flatten(-2);  // [..., n*m]
    result.bandwidth = (MedianLastDim(flat) / std::log(n + 1.0))
                           .clamp_min(options.min_bandwidth);
  }
  torch::Tensor h = result.bandwidth.unsqueeze(-1).unsqueeze(-1);
  result.value = torch::exp(-dist_sq / h);
  result.gradient = -2.0 * diff / h.unsqueeze(-1) * result.value.unsqueeze(-1);
  return result;
}

torch::Tensor SvgdDirection(const torch::Tensor& kernel_particles,
                            const torch::Tensor& grad_log_p,
                            const torch::Tensor& update_particles,
                            const RbfKernelOptions& options) {
  TORCH_CHECK(grad_log_p.sizes() == kernel_particles.sizes(),
              "SvgdDirection: grad_log_p must match kernel_particles");
  torch::NoGradGuard no_grad;
  RbfKernelResult k =
      RbfKernel(kernel_particles.detach(), update_particles.detach(), options);
  const double n = static_cast<double>(kernel_particles.size(-2));
  // Driving term: sum_j k[j, i] g_j = (k^T g)[i]; repulsive term:
  // sum_j dk[j, i] / dx_j.
  torch::Tensor drive = torch::matmul(k.value.transpose(-1, -2),
                                      grad_log_p.detach());  // [..., m, d]
  torch::Tensor repulse = k.gradient.sum(-3);                // [..., m, d]
  return (drive + repulse) / n;
}

torch::Tensor SvgdDirection(const torch::Tensor& particles,
                            const torch::Tensor& grad_log_p,
                            const RbfKernelOptions& options) {
  return SvgdDirection(particles, grad_log_p, particles, options);
}

torch::Tensor GradLogDensity(
    const std::function<torch::Tensor(const torch::Tensor&)>& log_density,
    const torch::Tensor& x) {
  torch::AutoGradMode enable_grad(true);
  torch::Tensor leaf = x.detach().requires_grad_(true);
  torch::Tensor log_p = log_density(leaf);
  return torch::autograd::grad({log_p.sum()}, {leaf})[0].detach();
}

torch::Tensor RunSvgd(
    const std::function<torch::Tensor(const torch::Tensor&)>& log_density,
    const torch::Tensor& particles, int num_steps, double step_size,
    const RbfKernelOptions& options) {
  torch::Tensor x = particles.detach().clone();
  for (int step = 0; step < num_steps; ++step) {
    torch::Tensor grad = GradLogDensity(log_density, x);
    x = x + step_size * SvgdDirection(x, grad, options);
  }
  return x;
}

torch::Tensor AmortizedSvgdLoss(const torch::Tensor& samples_for_kernel,
                                const torch::Tensor& samples_for_update,
                                const torch::Tensor& grad_log_p,
                                const AmortizedSvgdOptions& options) {
  // phi is a constant "upstream gradient" for the samples (soft Q-learning's
  // grad_ys): its own dependence on theta is not differentiated.
  torch::Tensor phi = SvgdDirection(samples_for_kernel, grad_log_p,
                                    samples_for_update, options.kernel);
  torch::Tensor per_set = (phi * samples_for_update).sum({-2, -1});
  return options.average_over_batch ? -per_set.mean() : -per_set.sum();
}

}  // namespace nn
}  // namespace marl
