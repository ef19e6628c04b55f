#ifndef MARL_LEARNERS_UPDATE_SCHEDULE_H_
#define MARL_LEARNERS_UPDATE_SCHEDULE_H_

#include <cstdint>

#include "absl/status/status.h"
#include "runtime/learner_state.h"

namespace marl {

// When an off-policy learner makes gradient updates: none until `start`
// transitions have been seen (warm-up), then `ratio` updates per transition
// seen, the batch that crosses `start` counting whole. The count is exact:
// after T credited transitions, floor(ratio * T) updates have been granted
// in all, however the transitions arrived (one by one or in batches), so
// fractions of an update carry over without rounding drift. Torch-free; the
// one schedule every replay learner uses.
class UpdateSchedule {
 public:
  // Its checkpointed state.
  struct State {
    int64_t transitions = 0;  // seen
    int64_t credited = 0;     // seen from the batch that reached `start` on
    int64_t granted = 0;      // updates granted so far
  };

  UpdateSchedule() = default;
  // ratio >= 0 and start >= 0 (the learners' parameter checks hold them).
  UpdateSchedule(double ratio, int64_t start) : ratio_(ratio), start_(start) {}

  // Records `n` more transitions; returns how many updates are due now.
  // With `ready` false (e.g. the replay holds less than a minibatch) the
  // transitions are seen but earn no updates.
  int64_t Record(int64_t n, bool ready = true);

  // True while the learner should still act uniformly at random.
  bool warming_up() const { return state_.transitions < start_; }
  int64_t transitions() const { return state_.transitions; }
  int64_t granted() const { return state_.granted; }

  const State& state() const { return state_; }
  // INVALID_ARGUMENT for a state no schedule reaches (negative counts,
  // more credited than seen, more granted than earned).
  absl::Status Restore(const State& state);

  // Its part of a learner's checkpoint state ("schedule": transitions,
  // credited, granted), and back (DATA_LOSS or INVALID_ARGUMENT when the
  // part is missing or holds a state no schedule reaches).
  void Save(LearnerStateWriter* writer) const;
  absl::Status Load(const LearnerStateReader& reader);

 private:
  int64_t Earned(int64_t credited) const;

  double ratio_ = 0;
  int64_t start_ = 0;
  State state_;
};

}  // namespace marl

#endif  // MARL_LEARNERS_UPDATE_SCHEDULE_H_
