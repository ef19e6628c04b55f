#ifndef MARL_RUNTIME_SEEDS_H_
#define MARL_RUNTIME_SEEDS_H_

#include <cstdint>

namespace marl {

// Independent random streams from one seed: the one derivation every run,
// learner and part uses (SplitMix64 mixing: DeriveSeed(s, k) and
// DeriveSeed(s, k + 1), or DeriveSeed(s, k) and DeriveSeed(s + 1, k), are
// unrelated). Derive again for streams within streams.
uint64_t DeriveSeed(uint64_t seed, uint64_t stream);

}  // namespace marl

#endif  // MARL_RUNTIME_SEEDS_H_
