#ifndef MARL_ENVS_CORE_SPACE_H_
#define MARL_ENVS_CORE_SPACE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace marl {

// An observation or action space. A value of the space is packed as
// FlatSize() numbers: int64s for Discrete and MultiDiscrete actions, floats
// for Box (and for every observation).
struct Space {
  enum class Kind { kDiscrete, kBox, kMultiDiscrete };

  static Space Discrete(int64_t n);
  // Bounds are per element; a single-element low/high is broadcast (not
  // when the shape's element count is not representable: Validate() then
  // reports it).
  static Space Box(std::vector<int64_t> shape, std::vector<float> low,
                   std::vector<float> high);
  static Space MultiDiscrete(std::vector<int64_t> nvec);

  bool is_discrete() const { return kind == Kind::kDiscrete; }
  bool is_box() const { return kind == Kind::kBox; }
  bool is_multi_discrete() const { return kind == Kind::kMultiDiscrete; }
  // True when values are packed as int64s (Discrete, MultiDiscrete).
  bool is_integer() const { return kind != Kind::kBox; }

  // Numbers per packed value; -1 when a Box shape has a negative dimension
  // or more than INT64_MAX elements (an unvalidated space: Validate() first
  // for spaces that do not come from an environment in this process).
  int64_t FlatSize() const;
  // FlatSize() with the reason when it is not representable: INVALID_ARGUMENT
  // for a negative dimension, RESOURCE_EXHAUSTED past INT64_MAX elements.
  absl::StatusOr<int64_t> CheckedFlatSize() const;

  // OK for a well-formed space: Discrete n >= 1; Box dimensions >= 1, an
  // element count that fits int64 and one low and one high bound per
  // element with low <= high (no NaN); MultiDiscrete nvec non-empty with
  // every element >= 1. Otherwise INVALID_ARGUMENT naming the problem.
  // The other members assume it (they index bounds by FlatSize()).
  absl::Status Validate() const;

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
