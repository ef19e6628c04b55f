#ifndef MARL_AGENTS_SOFT_OPTION_COMM_SOFT_OPTION_COMM_LOSSES_H_
#define MARL_AGENTS_SOFT_OPTION_COMM_SOFT_OPTION_COMM_LOSSES_H_

// What delayed soft-option communication (thesis §4.2, §4.3.2) adds to the
// single agent's closed forms (agents/soft_option/soft_option_losses.h):
// the partner's previous option read from its message, and the partner's
// termination (eq. 4.17, losses 4.31 and 4.37), whose "keep the option"
// branch needs that option. Shapes: B rows, m own options, n own actions,
// mp partner options. LibTorch header: include from .cc files and tests.

#include <torch/torch.h>

namespace marl {
namespace soft_option_comm {

// The partner's previous option as its message shows it.
struct PartnerMessage {
  torch::Tensor option;  // [B] int64, the one-hot's index (0 if none sent)
  torch::Tensor sent;    // [B] bool; false at an episode's first step
};

// messages [B, mp]: the observation's one-hot of the partner's message.
PartnerMessage ReadMessage(const torch::Tensor& messages);

// Q1 [B, m, n, mp] at the partner's previous option: [B, m, n].
torch::Tensor AtPartnerOption(const torch::Tensor& q1,
                              const PartnerMessage& message);

// Loss 4.31's target [B, m, n], the value before the partner's termination
// given the agent's option and action: where a previous option z'_p was
// sent, sum_b q^T(b) (Q(b) - log q^T(b) / P(b)) with Q(b = 1) = q2 (the
// partner master's value, loss 4.30) and Q(b = 0) = q1 at z'_p (the value
// of the partner keeping it, loss 4.29); logits [B, m, n] of the partner
// model's P(b = 1). Where none was sent the partner's option starts (b = 1):
// q2.
torch::Tensor PartnerTerminationValueTarget(const torch::Tensor& logits,
                                            const torch::Tensor& q2,
                                            const torch::Tensor& q1,
                                            const PartnerMessage& message,
                                            double prior_terminate);

// Loss 4.37 per (row, z, a) [B, m, n]: KL(q^T || the closed form of eq.
// 4.17); 0 in rows without a message (nothing to terminate).
torch::Tensor PartnerTerminationPolicyLoss(const torch::Tensor& logits,
                                           const torch::Tensor& q2,
                                           const torch::Tensor& q1,
                                           const PartnerMessage& message,
                                           double prior_terminate);

// Outside the thesis (--fitted_partner): the negative log-likelihood [B]
// of the partner's replayed option z_p under the partner model's
// termination and master, both already taken at each row's (z, a):
// -log((1 - sigma) [z_p = z'_p] + sigma q^H_p(z_p)) where a previous
// option z'_p was sent (sigma = sigmoid(termination_logits) [B]), -log
// q^H_p(z_p) where none was (the partner's option starts).
// master_log_probs [B, mp], z_partner [B] int64.
torch::Tensor PartnerOptionNll(const torch::Tensor& termination_logits,
                               const torch::Tensor& master_log_probs,
                               const torch::Tensor& z_partner,
                               const PartnerMessage& message);

// q [B, m, n, mp, np] at each row's (z, a, z_p, a_p), all [B] int64: [B].
torch::Tensor JointQAt(const torch::Tensor& q, const torch::Tensor& z,
                       const torch::Tensor& a, const torch::Tensor& z_partner,
                       const torch::Tensor& a_partner);

}  // namespace soft_option_comm
}  // namespace marl

#endif  // MARL_AGENTS_SOFT_OPTION_COMM_SOFT_OPTION_COMM_LOSSES_H_
