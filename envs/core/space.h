#ifndef MARL_ENVS_CORE_SPACE_H_
#define MARL_ENVS_CORE_SPACE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace marl {

// An observation or action space. A value of the space is packed as
// FlatSize() numbers: int64s for Discrete and MultiDiscrete actions, floats
// for Box (and for every observation).
struct Space {
  enum class Kind { kDiscrete, kBox, kMultiDiscrete };

  static Space Discrete(int64_t n);
  // Bounds are per element; a single-element low/high is broadcast.
  static Space Box(std::vector<int64_t> shape, std::vector<float> low,
                   std::vector<float> high);
  static Space MultiDiscrete(std::vector<int64_t> nvec);

  bool is_discrete() const { return kind == Kind::kDiscrete; }
  bool is_box() const { return kind == Kind::kBox; }
  bool is_multi_discrete() const { return kind == Kind::kMultiDiscrete; }
  // True when values are packed as int64s (Discrete, MultiDiscrete).
  bool is_integer() const { return kind != Kind::kBox; }

  // Numbers per packed value.
  int64_t FlatSize() const;

  // OK if `values` (FlatSize() of them) lie in the space; otherwise
  // OUT_OF_RANGE naming the first offending element.
  absl::Status CheckInteger(const int64_t* values) const;
  absl::Status CheckFloat(const float* values) const;

  std::string DebugString() const;

  Kind kind = Kind::kDiscrete;
  int64_t n = 0;                 // Discrete
  std::vector<int64_t> shape;    // Box
  std::vector<float> low, high;  // Box, FlatSize() each
  std::vector<int64_t> nvec;     // MultiDiscrete
};

bool operator==(const Space& a, const Space& b);
inline bool operator!=(const Space& a, const Space& b) { return !(a == b); }

}  // namespace marl

#endif  // MARL_ENVS_CORE_SPACE_H_
