#include "learners/update_schedule.h"

#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"

namespace marl {

int64_t UpdateSchedule::Earned(int64_t credited) const {
  // long double: exact for the products of a double and a count this size.
  return static_cast<int64_t>(
      std::floor(static_cast<long double>(ratio_) * credited));
}

int64_t UpdateSchedule::Record(int64_t n, bool ready) {
  state_.transitions += n;
  if (!ready || state_.transitions < start_) return 0;
  state_.credited += n;
  const int64_t due = Earned(state_.credited) - state_.granted;
  state_.granted += due;
  return due;
}

absl::Status UpdateSchedule::Restore(const State& state) {
  if (state.transitions < 0 || state.credited < 0 || state.granted < 0 ||
      state.credited > state.transitions ||
      state.granted > Earned(state.credited)) {
    return absl::InvalidArgumentError(
        absl::StrCat("update schedule state (transitions ", state.transitions,
                     ", credited ", state.credited, ", granted ", state.granted,
                     ") is not one a schedule reaches"));
  }
  state_ = state;
  return absl::OkStatus();
}

void UpdateSchedule::Save(LearnerStateWriter* writer) const {
  writer->Ints("schedule",
               {state_.transitions, state_.credited, state_.granted});
}

absl::Status UpdateSchedule::Load(const LearnerStateReader& reader) {
  std::vector<int64_t> counts;
  if (absl::Status s = reader.Ints("schedule", 3, &counts); !s.ok()) return s;
  State state;
  state.transitions = counts[0];
  state.credited = counts[1];
  state.granted = counts[2];
  return Restore(state);
}

}  // namespace marl
