#include "agents/soft_option_comm/soft_option_comm_losses.h"

#include <limits>

#include "agents/soft_option/soft_option_losses.h"

namespace marl {
namespace soft_option_comm {

using torch::Tensor;

PartnerMessage ReadMessage(const Tensor& messages) {
  return {messages.argmax(-1), messages.sum(-1) > 0.5};
}

Tensor AtPartnerOption(const Tensor& q1, const PartnerMessage& message) {
  const int64_t b = q1.size(0), m = q1.size(1), n = q1.size(2);
  return q1.gather(3, message.option.view({b, 1, 1, 1}).expand({b, m, n, 1}))
      .squeeze(3);
}

Tensor PartnerTerminationValueTarget(const Tensor& logits, const Tensor& q2,
                                     const Tensor& q1,
                                     const PartnerMessage& message,
                                     double prior_terminate) {
  const Tensor with_message = soft_option::TerminationValueTarget(
      logits, q2, AtPartnerOption(q1, message), prior_terminate);
  return torch::where(message.sent.view({-1, 1, 1}), with_message, q2);
}

Tensor PartnerTerminationPolicyLoss(const Tensor& logits, const Tensor& q2,
                                    const Tensor& q1,
                                    const PartnerMessage& message,
                                    double prior_terminate) {
  const Tensor optimal = soft_option::OptimalTerminationLogits(
      q2, AtPartnerOption(q1, message), prior_terminate);
  const Tensor sent = message.sent.to(logits.scalar_type()).view({-1, 1, 1});
  return soft_option::TerminationPolicyLoss(logits, optimal) * sent;
}

Tensor PartnerOptionNll(const Tensor& termination_logits,
                        const Tensor& master_log_probs, const Tensor& z_partner,
                        const PartnerMessage& message) {
  const Tensor drawn =
      master_log_probs.gather(1, z_partner.view({-1, 1})).squeeze(1);
  const Tensor kept = message.sent & (z_partner == message.option);
  const Tensor keep_term =
      torch::where(kept, torch::log_sigmoid(-termination_logits),
                   torch::full_like(termination_logits,
                                    -std::numeric_limits<float>::infinity()));
  const Tensor with_message = torch::logaddexp(
      keep_term, torch::log_sigmoid(termination_logits) + drawn);
  return -torch::where(message.sent, with_message, drawn);
}

Tensor JointQAt(const Tensor& q, const Tensor& z, const Tensor& a,
                const Tensor& z_partner, const Tensor& a_partner) {
  const int64_t b = q.size(0), n = q.size(2), mp = q.size(3), np = q.size(4);
  const Tensor flat = ((z * n + a) * mp + z_partner) * np + a_partner;
  return q.reshape({b, -1}).gather(1, flat.view({b, 1})).squeeze(1);
}

}  // namespace soft_option_comm
}  // namespace marl
