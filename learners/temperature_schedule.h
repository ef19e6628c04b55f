#ifndef MARL_LEARNERS_TEMPERATURE_SCHEDULE_H_
#define MARL_LEARNERS_TEMPERATURE_SCHEDULE_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"

namespace marl {

// A temperature as a function of the learner's step t (transitions learned
// from), closed-form so a restored step reproduces the temperature exactly.
//   exponential: max(minimum, initial * decay^t)
//   rommeo:      minimum + initial * exp(-rate * max(t - delay, 0))
//                (the ROMMEO authors' annealing, 0.1 + 500 exp(-0.1 (t-10)))
struct TemperatureSchedule {
  enum class Kind { kExponential, kRommeo };
  Kind kind = Kind::kExponential;
  double initial = 1.0;
  double minimum = 0.05;
  double decay = 1.0;  // exponential: factor per step, in (0, 1]
  double rate = 0.0;   // rommeo: exponent per step, >= 0
  double delay = 0.0;  // rommeo: steps at the initial temperature

  static TemperatureSchedule Exponential(double initial, double decay,
                                         double minimum);
  static TemperatureSchedule Rommeo(double minimum, double initial, double rate,
                                    double delay);
  static TemperatureSchedule Constant(double value) {
    return Exponential(value, 1.0, value);
  }

  double At(int64_t t) const;
  // INVALID_ARGUMENT (naming `what`) for non-positive temperatures and
  // out-of-range factors.
  absl::Status Validate(const std::string& what) const;
  // A JSON object for config.json.
  std::string ToJson() const;
};

}  // namespace marl

#endif  // MARL_LEARNERS_TEMPERATURE_SCHEDULE_H_
