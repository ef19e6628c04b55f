#include "agents/soft_option/soft_option_losses.h"

#include <cmath>

namespace marl {
namespace soft_option {

torch::Tensor MasterValueTarget(const torch::Tensor& option_values,
                                const torch::Tensor& master_log_probs,
                                bool soft) {
  const torch::Tensor p = master_log_probs.exp();
  if (!soft) return (p * option_values).sum(-1);
  const double log_m = std::log(static_cast<double>(option_values.size(-1)));
  return (p * (option_values - master_log_probs - log_m)).sum(-1);
}

torch::Tensor MasterPolicyLoss(const torch::Tensor& master_log_probs,
                               const torch::Tensor& option_values) {
  return (master_log_probs.exp() *
          (master_log_probs - torch::log_softmax(option_values, -1)))
      .sum(-1);
}

torch::Tensor OptimalTerminationLogits(const torch::Tensor& master_value,
                                       const torch::Tensor& option_values,
                                       double prior_terminate) {
  return std::log(prior_terminate) - std::log1p(-prior_terminate) +
         master_value - option_values;
}

torch::Tensor TerminationValueTarget(const torch::Tensor& termination_logits,
                                     const torch::Tensor& master_value,
                                     const torch::Tensor& option_values,
                                     double prior_terminate) {
  const torch::Tensor log_p1 = torch::log_sigmoid(termination_logits);
  const torch::Tensor log_p0 = torch::log_sigmoid(-termination_logits);
  const torch::Tensor terminate =
      master_value - log_p1 + std::log(prior_terminate);
  const torch::Tensor go_on =
      option_values - log_p0 + std::log1p(-prior_terminate);
  return log_p1.exp() * terminate + log_p0.exp() * go_on;
}

torch::Tensor TerminationPolicyLoss(const torch::Tensor& termination_logits,
                                    const torch::Tensor& optimal_logits) {
  const torch::Tensor log_p1 = torch::log_sigmoid(termination_logits);
  const torch::Tensor log_p0 = torch::log_sigmoid(-termination_logits);
  return log_p1.exp() * (log_p1 - torch::log_sigmoid(optimal_logits)) +
         log_p0.exp() * (log_p0 - torch::log_sigmoid(-optimal_logits));
}

torch::Tensor DiscreteOptionValueTarget(const torch::Tensor& log_probs,
                                        const torch::Tensor& q) {
  const double log_a = std::log(static_cast<double>(q.size(-1)));
  return (log_probs.exp() * (q - log_probs - log_a)).sum(-1);
}

torch::Tensor DiscreteLowPolicyLoss(const torch::Tensor& log_probs,
                                    const torch::Tensor& q) {
  return (log_probs.exp() * (log_probs - torch::log_softmax(q, -1))).sum(-1);
}

std::vector<int64_t> SelectOptions(const std::vector<int64_t>& previous,
                                   const std::vector<bool>& first,
                                   const torch::Tensor& termination,
                                   const torch::Tensor& master,
                                   const torch::Tensor& uniforms,
                                   bool deterministic,
                                   std::vector<bool>* terminated) {
  const int64_t n = static_cast<int64_t>(previous.size());
  const int64_t m = master.size(1);
  const torch::Tensor t = termination.to(torch::kFloat64).contiguous();
  const torch::Tensor p = master.to(torch::kFloat64).contiguous();
  const torch::Tensor u = uniforms.to(torch::kFloat64).contiguous();
  const double* t_data = t.data_ptr<double>();
  const double* p_data = p.data_ptr<double>();
  const double* u_data = u.data_ptr<double>();
  std::vector<int64_t> options(n);
  terminated->assign(n, false);
  for (int64_t c = 0; c < n; ++c) {
    const int64_t z_prev = previous[c];
    bool b = first[c] || z_prev < 0 || z_prev >= m;
    if (!b) {
      const double p_end = t_data[c * m + z_prev];
      b = deterministic ? p_end > 0.5 : u_data[2 * c] < p_end;
    }
    (*terminated)[c] = b;
    if (!b) {
      options[c] = z_prev;
      continue;
    }
    const double* row = p_data + c * m;
    int64_t z = 0;
    if (deterministic) {
      for (int64_t k = 1; k < m; ++k) {
        if (row[k] > row[z]) z = k;
      }
    } else {
      // Inverse CDF; the last option takes what rounding leaves.
      double left = u_data[2 * c + 1];
      z = m - 1;
      for (int64_t k = 0; k < m; ++k) {
        left -= row[k];
        if (left < 0) {
          z = k;
          break;
        }
      }
    }
    options[c] = z;
  }
  return options;
}

}  // namespace soft_option
}  // namespace marl
