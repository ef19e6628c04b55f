#ifndef MARL_ENVS_CORE_ENV_H_
#define MARL_ENVS_CORE_ENV_H_

#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "absl/types/span.h"
#include "envs/core/env_spec.h"

namespace marl {

// Where a batch of copies writes its results: one packed, copy-major array
// per field (row r of a field starts at r * its per-copy size). The owner
// (the server writes straight into protobuf fields) allocates; null where
// the spec has no such field. Per-agent vectors have one entry per agent
// (null entries for agents without the field).
struct BatchBuffers {
  std::vector<float*> observation;  // per agent
  std::vector<float*> reward;       // per agent, 1 per row
  std::vector<bool*> action_mask;   // per agent (null if not Discrete)
  bool* terminated = nullptr;       // 1 per row
  bool* truncated = nullptr;        // 1 per row
  int32_t* episode_step = nullptr;  // 1 per row
  float* public_observation = nullptr;
  float* state = nullptr;
  int32_t* current_agent = nullptr;  // 1 per row, sequential specs only
  float* info = nullptr;             // len(info_keys) per row
};

// Per-copy sizes of every BatchBuffers field, derived from a spec.
struct BatchLayout {
  explicit BatchLayout(const EnvSpec& spec);
  std::vector<int64_t> observation_size;  // per agent
  std::vector<int64_t> action_size;       // per agent (packed numbers)
  std::vector<int64_t> mask_size;         // per agent, 0 without a mask
  int64_t public_observation_size = 0;
  int64_t state_size = 0;
  int64_t info_size = 0;
};

// One copy's row of a batch: what an Env writes on Reset and Step.
// Everything not written keeps the value the batch runner cleared it to:
// observations and infos 0, rewards 0, masks all legal, not terminated.
class Output {
 public:
  Output(const BatchBuffers& buffers, const BatchLayout& layout, int64_t row)
      : buffers_(buffers), layout_(layout), row_(row) {}

  float* observation(int agent) const {
    return buffers_.observation[agent] + row_ * layout_.observation_size[agent];
  }
  void set_reward(int agent, float reward) const {
    buffers_.reward[agent][row_] = reward;
  }
  // Null unless the spec has action masks and the agent's actions are
  // Discrete; true = legal.
  bool* action_mask(int agent) const {
    bool* base = buffers_.action_mask[agent];
    return base ? base + row_ * layout_.mask_size[agent] : nullptr;
  }
  float* public_observation() const {
    return buffers_.public_observation + row_ * layout_.public_observation_size;
  }
  float* state() const { return buffers_.state + row_ * layout_.state_size; }
  float* info() const { return buffers_.info + row_ * layout_.info_size; }
  void set_current_agent(int agent) const {
    buffers_.current_agent[row_] = agent;
  }
  void set_terminated(bool terminated) const {
    buffers_.terminated[row_] = terminated;
  }

 private:
  const BatchBuffers& buffers_;
  const BatchLayout& layout_;
  int64_t row_;
};

// One copy's actions, read from the request's packed arrays.
struct BatchActions {
  std::vector<const int64_t*> discrete;  // per agent, null for Box agents
  std::vector<const float*> continuous;  // per agent, null otherwise
};

class Actions {
 public:
  Actions(const BatchActions& actions, const BatchLayout& layout, int64_t row)
      : actions_(actions), layout_(layout), row_(row) {}

  // The agent's Discrete action (first element for MultiDiscrete).
  int64_t discrete(int agent) const { return discrete_values(agent)[0]; }
  const int64_t* discrete_values(int agent) const {
    return actions_.discrete[agent] + row_ * layout_.action_size[agent];
  }
  // The agent's Box action, action_size floats.
  const float* continuous(int agent) const {
    return actions_.continuous[agent] + row_ * layout_.action_size[agent];
  }

 private:
  const BatchActions& actions_;
  const BatchLayout& layout_;
  int64_t row_;
};

class Env;

// Rows of a batch that one call steps (Env::StepRows) or resets
// (Env::ResetRows): each of `rows` (row indices, ascending) is copy
// copy_of_row[row], whose Env is env(row), and has its row of `actions`
// (a step's) and of `out`.
struct BatchRows {
  const std::unique_ptr<Env>* copies;  // the batch's copies, by copy index
  const int32_t* copy_of_row;
  absl::Span<const int64_t> rows;
  const BatchActions& actions;  // empty for a reset
  const BatchBuffers& out;
  const BatchLayout& layout;

  Env& env(int64_t row) const { return *copies[copy_of_row[row]]; }
};

// One copy of an environment: one play-through at a time, deterministic
// given its seed. Copies own their random engine (seeded by the batch runner
// from the make seed and the copy index), never global randomness.
//
// The batch runner, not the Env, counts steps, applies the spec's
// episode_limit (truncation) and auto-resets; an Env only reports
// termination. Actions reaching Step were already checked against the
// action spaces (and masks).
class Env {
 public:
  virtual ~Env() = default;

  virtual const EnvSpec& spec() const = 0;
  // Starts a new episode: writes the first observations (and masks, current
  // agent, public observation, state).
  virtual void Reset(const Output& out) = 0;
  // Applies one joint action: writes rewards, next observations, and
  // set_terminated(true) when the episode is over.
  virtual void Step(const Actions& actions, const Output& out) = 0;
  // Step and Reset for many rows in one call: each row as Step or Reset
  // on the row's own copy would. The batch runner calls them on one copy
  // of the batch (all copies have one type and one set of settings), on
  // up to 64 rows at a time; the defaults call Step or Reset row by row.
  // Override them only where a step is a few loads and stores (a matrix
  // game): there the virtual call, the Actions and Output lookups and the
  // visit to each copy's object cost more than the step itself
  // (docs/BENCHMARKS.md).
  virtual void StepRows(const BatchRows& rows);
  virtual void ResetRows(const BatchRows& rows);

  // Virtual so that a wrapper (the message channel) seeds what it wraps.
  virtual void Seed(uint64_t seed) { rng_.seed(seed); }
  std::mt19937_64& rng() { return rng_; }

 private:
  std::mt19937_64 rng_{0};
};

}  // namespace marl

#endif  // MARL_ENVS_CORE_ENV_H_
