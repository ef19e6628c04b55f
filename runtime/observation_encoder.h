#ifndef MARL_RUNTIME_OBSERVATION_ENCODER_H_
#define MARL_RUNTIME_OBSERVATION_ENCODER_H_

// What a network takes of an observation: a Discrete observation (its
// index, sent as a float) one-hot, a Box's floats as they are. The one
// encoder of the learners that feed observations to networks. Torch-free.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "envs/core/space.h"

namespace marl {

// The index a Discrete(n) observation sent as `value` stands for;
// OUT_OF_RANGE naming `agent` when it is not one.
absl::StatusOr<int64_t> DiscreteIndex(float value, int64_t n,
                                      const std::string& agent);

class ObservationEncoder {
 public:
  // `agent` names the observations in errors.
  ObservationEncoder(std::string agent, const Space& space);

  int64_t raw_size() const { return raw_size_; }  // floats sent per row
  int64_t size() const { return size_; }          // floats encoded per row

  // `n` rows of raw observations into `out` (n x size() floats).
  absl::Status Encode(const float* raw, int64_t n, float* out) const;
  // The same into a vector, resized to n x size().
  absl::Status Encode(const float* raw, int64_t n,
                      std::vector<float>* out) const;

 private:
  std::string agent_;
  Space space_;
  int64_t raw_size_;
  int64_t size_;
};

}  // namespace marl

#endif  // MARL_RUNTIME_OBSERVATION_ENCODER_H_
