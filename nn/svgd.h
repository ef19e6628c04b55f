#ifndef MARL_NN_SVGD_H_
#define MARL_NN_SVGD_H_

// Stein variational gradient descent (Liu & Wang 2016) with an adaptive RBF
// kernel, as soft Q-learning (Haarnoja et al. 2017) and PR2 use it to sample
// actions from energy-based policies and opponent models.
//
// Particles are [..., n, d]: any leading (batch) dims, e.g. one particle set
// per observation [B, K, d]; each batch entry gets its own bandwidth, as in
// soft Q-learning's kernel.
//
// Two uses:
//  * plain: move particles x_i <- x_i + eps * phi(x_i) (SvgdDirection,
//    RunSvgd);
//  * amortised: a sampler network a = f_theta(s, xi) is trained so its
//    samples move along phi: AmortizedSvgdLoss's gradient w.r.t. theta is
//    -sum_i stop_grad(phi(a_i)) . d a_i / d theta.

#include <torch/types.h>

#include <functional>

namespace marl {
namespace nn {

struct RbfKernelOptions {
  // Lower bound on h (the median heuristic gives h = 0 when most particles
  // coincide, which would make the kernel a delta and the repulsion blow up).
  // Soft Q-learning's h_min.
  double min_bandwidth = 1e-3;
  // If > 0, use this h instead of the median heuristic.
  double fixed_bandwidth = 0.0;
};

struct RbfKernelResult {
  // [..., n, m]: k(x_j, y_i) = exp(-|x_j - y_i|^2 / h), j over x, i over y.
  torch::Tensor value;
  // [..., n, m, d]: d k(x_j, y_i) / d x_j = -2 (x_j - y_i) / h * k(x_j, y_i).
  torch::Tensor gradient;
  // [...]: h, detached (no gradient flows through the bandwidth).
  torch::Tensor bandwidth;
};

// RBF kernel between x [..., n, d] and y [..., m, d] (same leading dims).
// Bandwidth, the median heuristic of Liu & Wang's SVGD code:
//   h = median_{j,i} |x_j - y_i|^2 / log(n + 1),
// the median over all n*m squared distances (zeros on the diagonal included
// when y is x; with an even count it is the mean of the two middle values,
// like numpy.median), n the number of x particles. Why: at a typical
// distance k = exp(-log(n + 1)) = 1/(n + 1), so a particle's own weight (1)
// and the others' (about n/(n + 1)) stay balanced for any n. Soft Q-learning
// divides by log(n) and takes the lower median; log(n + 1) stays positive for n
// = 1. h is clamped below by min_bandwidth.
RbfKernelResult RbfKernel(const torch::Tensor& x, const torch::Tensor& y,
                          const RbfKernelOptions& options = {});

// The SVGD direction at each update particle y_i, with the expectation over
// the kernel particles x_j [..., n, d] and grad_log_p [..., n, d] =
// grad log p(x_j):
//   phi(y_i) = (1/n) sum_j [k(x_j, y_i) grad log p(x_j)
//                           + grad_{x_j} k(x_j, y_i)].
// Returns [..., m, d], detached (a constant direction, not a loss).
torch::Tensor SvgdDirection(const torch::Tensor& kernel_particles,
                            const torch::Tensor& grad_log_p,
                            const torch::Tensor& update_particles,
                            const RbfKernelOptions& options = {});
// The one-set form (y = x), the textbook update: returns [..., n, d].
torch::Tensor SvgdDirection(const torch::Tensor& particles,
                            const torch::Tensor& grad_log_p,
                            const RbfKernelOptions& options = {});

// grad_x sum(log_density(x)) for x [..., n, d]; log_density returns one value
// per particle ([..., n] or [..., n, 1]). Works under a NoGradGuard too.
// The result is detached.
torch::Tensor GradLogDensity(
    const std::function<torch::Tensor(const torch::Tensor&)>& log_density,
    const torch::Tensor& x);

// Plain SVGD: num_steps of x <- x + step_size * phi(x), starting from
// `particles` (not modified). Returns the final particles, detached.
torch::Tensor RunSvgd(
    const std::function<torch::Tensor(const torch::Tensor&)>& log_density,
    const torch::Tensor& particles, int num_steps, double step_size,
    const RbfKernelOptions& options = {});

struct AmortizedSvgdOptions {
  RbfKernelOptions kernel;
  // Soft Q-learning sums the surrogate over batch and particles; set true to
  // average over the leading (batch) dims instead, which makes the learning
  // rate independent of the batch size.
  bool average_over_batch = false;
};

// Surrogate loss for amortised SVGD. samples_for_kernel [..., n, d] (the
// "fixed" actions, treated as constants) with grad_log_p [..., n, d] at them;
// samples_for_update [..., m, d] (the "updated" actions, differentiable
// w.r.t. the sampler's parameters theta). Soft Q-learning draws n + m
// samples per observation and splits them (kernel_update_ratio 0.5).
//   loss = -sum_i stop_grad(phi(y_i)) . y_i
// so loss.backward() leaves -sum_i phi(y_i) . d y_i / d theta in theta's
// .grad, and a minimising optimizer moves samples along phi.
torch::Tensor AmortizedSvgdLoss(const torch::Tensor& samples_for_kernel,
                                const torch::Tensor& samples_for_update,
                                const torch::Tensor& grad_log_p,
                                const AmortizedSvgdOptions& options = {});

}  // namespace nn
}  // namespace marl

#endif  // MARL_NN_SVGD_H_
