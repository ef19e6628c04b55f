#ifndef MARL_AGENTS_ROMMEO_ROMMEO_AC_LEARNER_H_
#define MARL_AGENTS_ROMMEO_ROMMEO_AC_LEARNER_H_

// ROMMEO-AC (Tian et al. 2019; thesis §3.2-3.3, eq. 3.14-3.18) for Box- or
// Discrete-action games (all agents of one kind). Per agent i:
//  * a joint Q(s, a^i, a^-i) with a Polyak target copy;
//  * an opponent model rho(a^-i|s): a tanh Gaussian (Box), or one
//    categorical over the other agents' joint actions (Discrete);
//  * a conditional policy pi(a^i|s, a^-i): a tanh Gaussian (Box), or a
//    categorical fed the others' one-hot actions (Discrete). The agent acts
//    from pi(a^i|s) = E_rho[pi(a^i|s, a^-i)] (eq. 3.18): Box agents draw
//    a^-i ~ rho then a^i ~ pi (greedy: the two means); Discrete agents
//    sample the exact marginal (greedy: its argmax).
// The regularised objective (eq. 3.16-3.17, temperature alpha): target
// r + gamma (1 - done) E_rho,pi[Q'(s', a'^i, a'^-i) - alpha log pi(a'^i|s',
// a'^-i) - R(a'^-i|s')]; pi minimises E_rho,pi[alpha log pi - Q]; rho
// minimises E_rho,pi[R + alpha log pi - Q] (rho ∝ exp(soft value of a^-i),
// eq. 3.14), with R = alpha log rho (uniform prior, the default) or
// w (log rho - log P) for a prior P(a^-i|s) fitted to the other agents'
// replayed actions (opponent_prior_weight = w > 0; the authors' code uses
// w = 1 with such a prior). Box agents estimate the expectations from one
// sample; Discrete agents compute them exactly over all (a^i, a^-i), which
// limits k_i * prod_{j != i} k_j to kMaxRommeoJointActions.
// alpha follows the ROMMEO schedule (learners/temperature_schedule.h).
// Box actions live in the normalised [-1, 1] space. Torch-free header.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "envs/core/env_spec.h"
#include "learners/deep_joint_params.h"
#include "runtime/joint_learner.h"
#include "runtime/params.h"

namespace marl {

// What the temperature schedule's t counts.
enum class TemperatureClock { kUpdates, kTransitions };
inline constexpr EnumName<TemperatureClock> kTemperatureClockNames[] = {
    {TemperatureClock::kUpdates, "updates"},
    {TemperatureClock::kTransitions, "transitions"}};
inline bool AbslParseFlag(absl::string_view text, TemperatureClock* out,
                          std::string* error) {
  return ParseEnum(text, kTemperatureClockNames, out, error);
}
inline std::string AbslUnparseFlag(TemperatureClock clock) {
  return UnparseEnum(clock, kTemperatureClockNames);
}

// How a Box agent's opponent model rho(a^-i|s) follows its target
// rho* ∝ P exp(soft value of a^-i / alpha) (eq. 3.14).
enum class OpponentFit {
  // The literal ROMMEO-AC: rho steps along the reparameterised gradient of
  // E_rho[soft value - regulariser] (eq. 3.16). Local: a unimodal rho
  // follows the slope where it stands.
  kGradient,
  // rho* itself over candidate actions drawn uniformly (the closed form
  // ROMMEO-Q computes, estimated by self-normalised importance weights),
  // and rho fitted to it by weighted maximum likelihood. Sees every basin.
  kSampled,
};
inline constexpr EnumName<OpponentFit> kOpponentFitNames[] = {
    {OpponentFit::kGradient, "gradient"}, {OpponentFit::kSampled, "sampled"}};
inline bool AbslParseFlag(absl::string_view text, OpponentFit* out,
                          std::string* error) {
  return ParseEnum(text, kOpponentFitNames, out, error);
}
inline std::string AbslUnparseFlag(OpponentFit fit) {
  return UnparseEnum(fit, kOpponentFitNames);
}

}  // namespace marl

// ROMMEO-AC's own hyperparameters (runtime/params.h); the shared ones are
// MARL_DEEP_JOINT_PARAMS.
#define MARL_ROMMEO_AC_PARAMS(P)                                               \
  P(double, policy_lr, 1e-2, Positive(),                                       \
    "Conditional policy pi(a^i|s,a^-i) (Adam) learning rate.")                 \
  P(double, opponent_lr, 1e-2, Positive(),                                     \
    "Opponent model rho(a^-i|s) (Adam) learning rate.")                        \
  P(double, alpha_min, 0.1, NonNegative(),                                     \
    "Temperature floor: alpha_t = alpha_min + alpha_initial * "                \
    "exp(-alpha_rate * max(t - alpha_delay, 0)), t counted by "                \
    "--alpha_clock (the authors' 0.1 + 500 exp(-0.1 max(t - 10, 0))).")        \
  P(double, alpha_initial, 500, NonNegative(),                                 \
    "Annealed part of the temperature.")                                       \
  P(double, alpha_rate, 0.1, NonNegative(),                                    \
    "Temperature decay rate per --alpha_clock unit.")                          \
  P(double, alpha_delay, 10, NonNegative(),                                    \
    "--alpha_clock units before the temperature starts decaying.")             \
  P(::marl::TemperatureClock, alpha_clock, ::marl::TemperatureClock::kUpdates, \
    AnyValue(),                                                                \
    "What the temperature schedule's t counts: \"updates\" (gradient "         \
    "updates; the authors' loop makes one per iteration) or \"transitions\" "  \
    "(transitions learned from, over all copies).")                            \
  P(double, opponent_prior_weight, 0, NonNegative(),                           \
    "0: uniform opponent prior, rho(a^-i|s) regularised by its entropy at "    \
    "the temperature. > 0: rho regularised by this weight times KL(rho || "    \
    "P), P(a^-i|s) fitted to the other agents' replayed actions (the "         \
    "authors' code: 1).")                                                      \
  P(::marl::OpponentFit, opponent_fit, ::marl::OpponentFit::kGradient,         \
    AnyValue(),                                                                \
    "Box actions: how rho(a^-i|s) is trained. \"gradient\": the literal "      \
    "ROMMEO-AC, the reparameterised gradient of E_rho[soft value] (eq. "       \
    "3.16). \"sampled\": rho fitted by weighted maximum likelihood to the "    \
    "closed form rho* ∝ P exp(soft value / alpha) (eq. 3.14) over "          \
    "--opponent_candidates uniform candidate actions per state.")              \
  P(int64_t, opponent_candidates, 32, InRange(2, 4096),                        \
    "--opponent_fit=sampled: candidate partner actions per state.")            \
  P(bool, policy_at_replayed_partners, false, AnyValue(),                      \
    "Box actions: train the conditional policy pi(a^i|s,a^-i) at the "         \
    "partners' replayed actions as well as at rho's samples (eq. 3.17 "        \
    "takes only rho's), so it answers partner actions rho does not yet "       \
    "predict.")

namespace marl {

// Joint actions (own times the others') one Discrete agent's update
// enumerates per state: every update runs the critic on batch_size times
// this many rows, so the limit bounds memory (512 x 256 rows of a 100-unit
// MLP is about 100 MB of activations).
inline constexpr int64_t kMaxRommeoJointActions = 256;

struct RommeoAcOptions {
  MARL_PARAMS(MARL_ROMMEO_AC_PARAMS)
  DeepJointParams base;
};

absl::StatusOr<std::unique_ptr<JointLearner>> CreateRommeoAcLearner(
    const EnvSpec& spec, const RommeoAcOptions& options, uint64_t seed);

}  // namespace marl

#endif  // MARL_AGENTS_ROMMEO_ROMMEO_AC_LEARNER_H_
