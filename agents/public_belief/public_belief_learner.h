#ifndef MARL_AGENTS_PUBLIC_BELIEF_PUBLIC_BELIEF_LEARNER_H_
#define MARL_AGENTS_PUBLIC_BELIEF_PUBLIC_BELIEF_LEARNER_H_

// The probabilistic public agent (thesis §5.3-5.4): cooperative agents in a
// partially observable game share one public agent, which keeps a particle
// belief over the hidden state from the public observations and the
// agents' actions, and sends every agent the same message m_t (eq. 5.21);
// each agent acts from its private observation, the message and the belief
// (eq. 5.22-5.23). Torch-free header; README.md has the details.
//
// Public agent (one object, one seed, used by every agent):
//   - a DVRL particle filter (nn/particle_filter.h) over the public
//     observations, conditioned on the previous joint action: latent x^k,
//     recurrent state f^k, log-weight w^k, trained on the ELBO (eq. 5.25);
//   - per particle, a distribution card^{j,k} over every agent j's private
//     observation (Discrete private observations): the thesis samples
//     y^{j,k} per particle; this keeps the exact distribution instead
//     (Rao-Blackwellised), moved each step by a learned model
//     p(y^j_t | y^j_{t-1}, f^k, o^pub_t, a_{t-1}) fitted to the true private
//     observations of replayed episodes (the thesis's "network that outputs
//     the agents' private observation"; it never sees them when acting, and
//     its loss does not reach the filter);
//   - the actions taken are evidence (the P(a^i, a^-i | s, o^pri, m, o^pub)
//     term of eq. 5.24): a particle's weight takes log sum_v card^{i,k}(v)
//     pi^i(a^i | particle k, m, v, o^pub) and its distribution becomes the
//     posterior given the action (Bayes' rule), which is how a public action
//     becomes evidence about a private card;
//   - the message m_t = sum_k W^k softmax(g(x^k, f^k, card^k, o^pub_t))
//     (eq. 5.21).
// Agent i, per particle k: its networks read [x^k, f^k, the particle's
// distributions over the other agents' private observations, the belief's
// marginals, m_t, its own private observation, o^pub_t]; its Q, V and
// policy are the W-weighted mixtures over particles (eq. 5.22, 5.6).
// Losses 5.27 (V), 5.28 (Q: r + gamma V(next)), 5.29 (policy: KL to the
// Boltzmann policy of Q with temperature alpha and a uniform prior), exact
// sums over Discrete actions, plus minus the ELBO times elbo_weight, the
// private-observation models' negative log-likelihood and minus the
// message entropy. With --privileged_critic (default) Q and V are trained
// at the true private observations and the policy follows the belief's
// expectation of Q (README.md says why).
//
// Replay: episodes (learners/sequence_replay.h); each update rebuilds the
// belief from every sampled episode's start and trains on its last <=
// bptt steps (truncated backpropagation through time). Turn-based games:
// only the acting agent's action is evidence and has a Q and a policy loss;
// at the other agents' turns an agent's V follows r + gamma V(next).
//
// --particles=0 removes the public agent (no belief, no message): every
// agent learns the same soft actor-critic from its private and the public
// observation, the independent baseline of the same code.

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "envs/core/env_spec.h"
#include "runtime/joint_learner.h"
#include "runtime/params.h"

#define MARL_PUBLIC_BELIEF_PARAMS(P)                                           \
  P(int32_t, particles, 10, (InRange(0, 4096)),                                \
    "K: particles of the public belief (DVRL's 10); 0 = no public agent "      \
    "(independent agents on private and public observations: the "             \
    "baseline).")                                                              \
  P(int32_t, latent_size, 8, (InRange(1, 4096)),                               \
    "Size of each particle's continuous latent x (the filter's z).")           \
  P(int32_t, belief_hidden, 32, (InRange(1, 4096)),                            \
    "Size of each particle's recurrent state f (the filter's GRU).")           \
  P(int32_t, message_size, 4, (InRange(0, 1024)),                              \
    "M: symbols of the public agent's message (eq. 5.21); 0 = no message.")    \
  P(LayerSizes, hidden, LayerSizes("64,64"), AnyValue(),                       \
    "Hidden ReLU layers of every network (filter, models, Q, V, policy).")     \
  P(double, lr, 1e-3, Positive(), "Adam learning rate (every network).")       \
  P(double, gamma, 0.99, (InRange(0, 1)), "Discount factor.")                  \
  P(double, alpha, 1.0, (InRange(1e-6, 1e6)),                                  \
    "Initial entropy temperature of the soft policies (eq. 5.23: pi ~ "        \
    "exp(Q / alpha) with a uniform prior).")                                   \
  P(double, alpha_decay, 1.0, (InRange(1e-9, 1)),                              \
    "The temperature's factor per transition learned from: alpha_t = "         \
    "max(alpha_min, alpha * alpha_decay^t) (1 = constant).")                   \
  P(double, alpha_min, 0.05, (InRange(1e-6, 1e6)), "The temperature's floor.") \
  P(bool, privileged_critic, true, AnyValue(),                                 \
    "true: Q and V are trained at each particle with its distributions "       \
    "over the private observations replaced "                                  \
    "by the replayed step's true private observations (centralised "           \
    "training), and the policy follows the belief's Q, the W-mixture of the "  \
    "same networks at the distributions; false: the mixtures of eq. 5.22 are " \
    "trained as they are (losses 5.27-5.28 on the belief).")                   \
  P(double, elbo_weight, 0.1, NonNegative(),                                   \
    "Weight of minus the ELBO (eq. 5.25) in the loss (DVRL's 0.1).")           \
  P(double, message_entropy, 0.01, NonNegative(),                              \
    "Weight of the message's entropy bonus (the H[q(m)] of eq. 5.25).")        \
  P(int64_t, batch_size, 32, (InRange(1, 1 << 20)),                            \
    "Episodes (sequences) per update (the BAD experiments' 32).")              \
  P(int64_t, bptt, 50, (InRange(1, 1 << 20)),                                  \
    "Steps of each sampled sequence trained through (truncated "               \
    "backpropagation through time; the steps before them are a burn-in).")     \
  P(int64_t, buffer_size, 20000, (InRange(1, 1e9)),                            \
    "Replay capacity in transitions (over all copies).")                       \
  P(int64_t, warmup, 256, NonNegative(),                                       \
    "Transitions (over all copies) acted uniformly at random first.")          \
  P(double, update_ratio, 0.125, (InRange(0, 1e6)),                            \
    "Gradient updates per transition observed; fractions accumulate.")         \
  P(double, grad_clip, 10.0, Positive(), "Gradient norm clip per update.")

namespace marl {

struct PublicBeliefOptions {
  MARL_PARAMS(MARL_PUBLIC_BELIEF_PARAMS)
};

// "public_belief_k<K>" (with "_nomsg" without a message, "_literal" with
// --privileged_critic=false), or "public_belief_none" without the public
// agent.
std::string PublicBeliefAlgorithmName(const PublicBeliefOptions& options);

// INVALID_ARGUMENT for a spec it cannot learn: fewer than two agents,
// non-Discrete actions, no public observation, or (with particles) private
// observations that are not Discrete.
absl::StatusOr<std::unique_ptr<JointLearner>> CreatePublicBeliefLearner(
    const EnvSpec& spec, const PublicBeliefOptions& options, uint64_t seed);

}  // namespace marl

#endif  // MARL_AGENTS_PUBLIC_BELIEF_PUBLIC_BELIEF_LEARNER_H_
