#ifndef MARL_ENVS_CORE_ENV_BATCH_H_
#define MARL_ENVS_CORE_ENV_BATCH_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "envs/core/env.h"
#include "envs/core/settings.h"

namespace marl {

// Runs a function over [0, n) on some threads; the batch runner uses it to
// step copies in parallel. Null = run inline.
using ParallelFor =
    std::function<void(int64_t n, const std::function<void(int64_t)>& body)>;

// The actions a request carried: per agent, copy-major packed arrays.
struct PackedActions {
  std::vector<absl::Span<const int64_t>> discrete;
  std::vector<absl::Span<const float>> continuous;
};

// Where a batched step leaves the last observations of auto-reset copies:
// compact arrays of final_count rows, in row order. The caller sizes each
// array for `rows` entries (the most that can end in one step); the entries
// past final_count are scratch (Step writes each ended row's values at the
// row's own place, then compacts).
struct FinalBuffers {
  std::vector<int32_t>* rows = nullptr;  // rows that ended
  std::vector<float*> observation;       // per agent
  float* public_observation = nullptr;
  float* state = nullptr;
};

// The copies of one environment made together: owns them, validates
// requests against the spec, counts episode steps, applies the episode limit
// (truncation) and the auto-reset rule. This is where the protocol's batch
// semantics live, independent of any transport.
class EnvBatch {
 public:
  // Checks a memory estimate (bytes) against a budget before it is spent:
  // an error status (RESOURCE_EXHAUSTED, naming the limit) refuses it.
  using MemoryCheck = std::function<absl::Status(int64_t estimated_bytes)>;

  // Copy c is seeded with SeedForCopy(seed, c). `check` (optional) sees the
  // estimate twice: before anything is built (the environment's per-copy
  // estimate from the settings, times num_copies) and, once the first copy
  // exists and its spec is known, with the batch's buffers added.
  static absl::StatusOr<std::unique_ptr<EnvBatch>> Create(
      const std::string& env_name,
      const std::map<std::string, SettingValue>& settings, int num_copies,
      uint64_t seed, bool auto_reset, const MemoryCheck& check = nullptr);

  // Bytes per copy of the batch's own buffers and of a request's and a
  // response's arrays, from the spec; saturates at INT64_MAX.
  static int64_t RowBytesEstimate(const EnvSpec& spec);
  // Bytes of the spec in its protocol form, held once per handle and sent
  // in the make response; saturates at INT64_MAX.
  static int64_t SpecBytesEstimate(const EnvSpec& spec);

  static uint64_t SeedForCopy(uint64_t seed, int copy);

  const EnvSpec& spec() const { return copies_[0]->spec(); }
  const BatchLayout& layout() const { return layout_; }
  const Settings& settings() const { return settings_; }
  const std::string& name() const { return name_; }
  int num_copies() const { return static_cast<int>(copies_.size()); }
  bool auto_reset() const { return auto_reset_; }
  // The memory estimate that Create checked.
  int64_t estimated_bytes() const { return estimated_bytes_; }

  // Checks a list of copy indices (empty = all): in range, no repeats.
  // Returns the resolved list.
  absl::StatusOr<std::vector<int32_t>> ResolveCopies(
      absl::Span<const int32_t> copies) const;

  // Resets `copies` (from ResolveCopies); `seeds` is empty or one per copy.
  // Row r of `out` is copies[r].
  absl::Status Reset(absl::Span<const int32_t> copies,
                     absl::Span<const uint64_t> seeds, const BatchBuffers& out,
                     const ParallelFor& parallel = nullptr);

  // Checks the packed actions for `copies`: per agent, the right kind
  // (discrete for Discrete/MultiDiscrete, continuous for Box, the other
  // empty), the right count (rows x action size), in range, legal under the
  // mask, and every copy reset and (without auto-reset) not finished.
  absl::Status CheckStep(absl::Span<const int32_t> copies,
                         const PackedActions& actions) const;

  // Steps `copies` (after CheckStep passed); row r of `out` is copies[r].
  // Returns how many rows ended and were auto-reset (listed, with their
  // final observations, in `final_out`). INTERNAL when the environment
  // produced a reward that is not finite or exceeds kMaxAbsReward (the
  // copies have stepped; their results are not to be used).
  absl::StatusOr<int> Step(absl::Span<const int32_t> copies,
                           const PackedActions& actions,
                           const BatchBuffers& out,
                           const FinalBuffers& final_out,
                           const ParallelFor& parallel = nullptr);

 private:
  EnvBatch(std::vector<std::unique_ptr<Env>> copies, Settings settings,
           bool auto_reset);
  // Clears rows [0, rows) of every field to the defaults an Env may leave
  // unwritten (zeros, masks all legal, not terminated).
  void ClearRows(const BatchBuffers& out, int64_t rows) const;

  std::vector<std::unique_ptr<Env>> copies_;
  Settings settings_;
  BatchLayout layout_;
  bool auto_reset_;
  std::string name_;  // the environment's registered name
  int64_t estimated_bytes_ = 0;
  std::vector<int32_t> episode_step_;  // per copy
  std::vector<char> started_;          // per copy: reset at least once
  std::vector<char> finished_;         // per copy: ended, awaiting reset
  // Each copy's current action masks, for checking the next actions.
  std::vector<std::vector<char>> legal_;  // [agent][copy * n + a]
  std::vector<int32_t> current_agent_;    // per copy, turn-based specs
  // Where auto-resets write what must not overwrite the ended episode's
  // row: rewards ([agent][row]), termination and infos, per row of a step.
  std::vector<float> reward_scratch_, info_scratch_;
  std::unique_ptr<bool[]> terminated_scratch_;
  std::vector<char> ended_scratch_;  // per row of the last step
  // Step's tables, rebuilt per step (capacity kept): the action pointers;
  // the observation-side fields an auto-reset clears, with where their
  // final values go (null: not wanted); the masks, cleared likewise and
  // kept in legal_ for checking; the buffers an auto-reset writes to.
  struct ObservationField {
    float* out;
    float* final;
    int64_t size;
  };
  struct MaskField {
    bool* out;
    char* legal;
    int64_t size;
  };
  BatchActions action_pointers_;
  std::vector<ObservationField> observations_;
  std::vector<MaskField> masks_;
  BatchBuffers reset_out_;
  const BatchActions no_actions_;  // what Env::ResetRows gets as actions
};

// A batch with its own buffers: for in-process use (tests, benchmarks,
// tabular agents that skip the protocol).
class LocalBatch {
 public:
  explicit LocalBatch(std::unique_ptr<EnvBatch> batch);
  EnvBatch& batch() { return *batch_; }
  const EnvSpec& spec() const { return batch_->spec(); }

  absl::Status ResetAll(absl::Span<const uint64_t> seeds = {});
  // Steps all copies. Per agent: `discrete[agent]` / `continuous[agent]`
  // holds num_copies x action size numbers (the other is ignored).
  absl::Status StepAll(const std::vector<std::vector<int64_t>>& discrete,
                       const std::vector<std::vector<float>>& continuous);

  // Row-major results of the last reset/step, per agent.
  const std::vector<float>& observation(int agent) const {
    return observation_[agent];
  }
  const std::vector<float>& reward(int agent) const { return reward_[agent]; }
  bool terminated(int copy) const { return terminated_[copy]; }
  bool truncated(int copy) const { return truncated_[copy]; }
  int32_t episode_step(int copy) const { return episode_step_[copy]; }
  const std::vector<bool>& action_mask(int agent) const;
  const std::vector<float>& public_observation() const { return public_; }
  const std::vector<float>& state() const { return state_; }
  const std::vector<int32_t>& current_agent() const { return current_agent_; }
  const std::vector<float>& info() const { return info_; }
  const std::vector<int32_t>& final_rows() const { return final_rows_; }
  const std::vector<float>& final_observation(int agent) const {
    return final_observation_[agent];
  }

 private:
  std::unique_ptr<EnvBatch> batch_;
  std::vector<int32_t> all_copies_;
  std::vector<std::vector<float>> observation_, reward_, final_observation_;
  std::vector<std::unique_ptr<bool[]>> mask_storage_;
  mutable std::vector<std::vector<bool>> mask_view_;
  std::unique_ptr<bool[]> terminated_, truncated_;
  std::vector<int32_t> episode_step_, current_agent_, final_rows_;
  std::vector<float> public_, state_, info_, final_public_, final_state_;
  BatchBuffers buffers_;
  FinalBuffers final_buffers_;
};

}  // namespace marl

#endif  // MARL_ENVS_CORE_ENV_BATCH_H_
