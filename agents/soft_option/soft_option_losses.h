#ifndef MARL_AGENTS_SOFT_OPTION_SOFT_OPTION_LOSSES_H_
#define MARL_AGENTS_SOFT_OPTION_SOFT_OPTION_LOSSES_H_

// The closed forms and losses of single-agent soft option learning (thesis
// §4.1 and §4.3.1, appendix C.1), for m discrete options, with every
// expectation over options, terminations and Discrete actions computed
// exactly (sums over the finitely many values) rather than sampled. Names:
//   V_L(s, z)  the option's value (eq. 4.5, trained by 4.22);
//   V_H(s)     the master's value (eq. 4.6 / C.3, trained by 4.23);
//   U(s, z')   the value of arriving with previous option z', before the
//              termination decision (eq. 4.7 / C.6, trained by 4.24).
// Appendix C.3 prints V(s) = (1/m) log sum exp V(s, z); the normaliser of
// pi^H = (1/m) exp V(s, z) / exp V(s) needs V(s) = log((1/m) sum exp V(s,
// z)), which is also what loss 4.23's target equals at its optimum: that is
// the reading here. LibTorch header: include from .cc files and tests.

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace marl {
namespace soft_option {

// Loss 4.23's target, per row [B]: sum_z pi^H(z|s) (V_L(s, z) - log(m
// pi^H(z|s))) with the master's entropy (soft = true, eq. 4.9: at the
// optimal pi^H this is log mean_z exp V_L(s, z)); soft = false drops it,
// sum_z pi^H(z|s) V_L(s, z) (eq. 4.10, the earlier work's value).
// option_values [B, m], master_log_probs [B, m].
torch::Tensor MasterValueTarget(const torch::Tensor& option_values,
                                const torch::Tensor& master_log_probs,
                                bool soft);

// Loss 4.26, per row: KL(pi^H(.|s) || softmax(V_L(s, .))), the optimal
// master of eq. 4.6 under the uniform prior.
torch::Tensor MasterPolicyLoss(const torch::Tensor& master_log_probs,
                               const torch::Tensor& option_values);

// The optimal termination of eq. 4.7 as logits of P(b = 1 | s, z') [B, m]:
// log P(b=1) + V_H(s) - log P(b=0) - V_L(s, z'), with P(b = 1) =
// prior_terminate. master_value broadcasts against option_values (the
// single agent's [B, 1]; the value of terminating, per element, for a
// partner's termination in soft_option_comm).
torch::Tensor OptimalTerminationLogits(const torch::Tensor& master_value,
                                       const torch::Tensor& option_values,
                                       double prior_terminate);

// Loss 4.24's target [B, m]: sum_b pi^T(b|s, z') (U(s, z', b) - log
// pi^T(b|s, z') / P(b)), U(s, z', 1) = V_H(s), U(s, z', 0) = V_L(s, z');
// termination_logits [B, m] of pi^T(b = 1 | s, z'). At the optimal pi^T it
// equals log(P(b=1) exp V_H(s) + P(b=0) exp V_L(s, z')) (eq. 4.7).
// master_value broadcasts as in OptimalTerminationLogits.
torch::Tensor TerminationValueTarget(const torch::Tensor& termination_logits,
                                     const torch::Tensor& master_value,
                                     const torch::Tensor& option_values,
                                     double prior_terminate);

// Loss 4.27 [B, m]: KL(Bernoulli(sigmoid(logits)) ||
// Bernoulli(sigmoid(optimal_logits))).
torch::Tensor TerminationPolicyLoss(const torch::Tensor& termination_logits,
                                    const torch::Tensor& optimal_logits);

// Discrete low-level policies, log_probs and q [B, m, A] (uniform action
// prior 1/A). Loss 4.22's target [B, m]: sum_a pi(a|s,z) (Q(s,a,z) - log
// pi(a|s,z) - log A). Loss 4.25 [B, m]: KL(pi(.|s,z) || softmax(Q(s,.,z))).
torch::Tensor DiscreteOptionValueTarget(const torch::Tensor& log_probs,
                                        const torch::Tensor& q);
torch::Tensor DiscreteLowPolicyLoss(const torch::Tensor& log_probs,
                                    const torch::Tensor& q);

// The option each copy acts with this step (the acting rule above eq.
// 4.1): per copy, an episode's first step (or no previous option:
// previous[c] < 0) terminates; else the option terminates with
// probability termination[c, previous[c]] (deterministic: when that is
// above 1/2). On termination the master picks option z with probability
// master[c, z] (deterministic: its most likely option), else the option is
// exactly previous[c]. termination and master [n, m] are probabilities;
// uniforms [n, 2] are U(0, 1) draws (one for the termination, one for the
// master). Returns per copy the option, and in *terminated whether b = 1.
std::vector<int64_t> SelectOptions(const std::vector<int64_t>& previous,
                                   const std::vector<bool>& first,
                                   const torch::Tensor& termination,
                                   const torch::Tensor& master,
                                   const torch::Tensor& uniforms,
                                   bool deterministic,
                                   std::vector<bool>* terminated);

}  // namespace soft_option
}  // namespace marl

#endif  // MARL_AGENTS_SOFT_OPTION_SOFT_OPTION_LOSSES_H_
