#ifndef MARL_RUNTIME_PUBLIC_OBSERVATION_FOLD_H_
#define MARL_RUNTIME_PUBLIC_OBSERVATION_FOLD_H_

// Lets a learner that reads only per-agent observations see an
// environment's public observation too (--observe_public): the learner is
// built on a spec in which every agent observes Box([its own observation,
// encoded as networks take it (observation_encoder.h), then the public
// observation]), and a wrapper appends the public observation to every
// agent's observation on the way in. Where the per-agent observations are
// private (tiny_hanabi: the agent's own card) this is what the agent
// really sees; the baselines of the public-belief agent learn from it.

#include "absl/status/statusor.h"
#include "envs/core/env_spec.h"
#include "runtime/training_loop.h"

namespace marl {

// The spec the wrapped learner is built on; INVALID_ARGUMENT when `spec`
// has no public observation.
absl::StatusOr<EnvSpec> SpecObservingPublic(const EnvSpec& spec);

// A factory building `inner`'s learner on SpecObservingPublic(spec),
// wrapped to feed it the folded observations.
LearnerFactory ObservePublic(LearnerFactory inner);

}  // namespace marl

#endif  // MARL_RUNTIME_PUBLIC_OBSERVATION_FOLD_H_
