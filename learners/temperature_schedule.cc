#include "learners/temperature_schedule.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "runtime/json.h"

namespace marl {

TemperatureSchedule TemperatureSchedule::Exponential(double initial,
                                                     double decay,
                                                     double minimum) {
  TemperatureSchedule s;
  s.kind = Kind::kExponential;
  s.initial = initial;
  s.decay = decay;
  s.minimum = minimum;
  return s;
}

TemperatureSchedule TemperatureSchedule::Rommeo(double minimum, double initial,
                                                double rate, double delay) {
  TemperatureSchedule s;
  s.kind = Kind::kRommeo;
  s.minimum = minimum;
  s.initial = initial;
  s.rate = rate;
  s.delay = delay;
  return s;
}

double TemperatureSchedule::At(int64_t t) const {
  const double x = static_cast<double>(t);
  if (kind == Kind::kRommeo) {
    return minimum + initial * std::exp(-rate * std::max(x - delay, 0.0));
  }
  // pow, not repeated multiplication, so restoring a step reproduces it.
  return std::max(minimum, initial * std::pow(decay, x));
}

absl::Status TemperatureSchedule::Validate(const std::string& what) const {
  if (kind == Kind::kExponential) {
    if (!(initial > 0) || !(minimum > 0)) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": temperatures must be > 0"));
    }
    if (!(decay > 0 && decay <= 1)) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": decay must be in (0, 1]"));
    }
  } else {
    if (!(minimum > 0) || !(initial >= 0)) {
      return absl::InvalidArgumentError(absl::StrCat(
          what, ": minimum must be > 0 and the annealed part >= 0"));
    }
    if (!(rate >= 0) || !(delay >= 0)) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": rate and delay must be >= 0"));
    }
  }
  return absl::OkStatus();
}

std::string TemperatureSchedule::ToJson() const {
  JsonObject o;
  if (kind == Kind::kRommeo) {
    o.Add("kind", "rommeo")
        .Add("minimum", minimum)
        .Add("initial", initial)
        .Add("rate", rate)
        .Add("delay", delay);
  } else {
    o.Add("kind", "exponential")
        .Add("initial", initial)
        .Add("decay", decay)
        .Add("minimum", minimum);
  }
  return o.Build();
}

}  // namespace marl
